/**
 * Every probe, by id. This map is the only list: configuration validation, the agent and the
 * collector derive the allowed probe ids and their options from it.
 */

import { accountInventory } from './accounts/inventory.js';
import { dnsResolution } from './endpoint/dns.js';
import { httpEndpoint } from './endpoint/http.js';
import { tcpConnect } from './endpoint/tcp.js';
import { tlsCertificate } from './endpoint/tls.js';
import { brokenLinks } from './portal/broken-links.js';
import { columnFreshness } from './portal/column-freshness.js';
import { homepageUpdate } from './portal/homepage-update.js';
import { securityHeaders } from './portal/security-headers.js';
import { tampering } from './portal/tampering.js';
import { duplicateUid, emptyPassword, uidZero } from './security/accounts.js';
import { auditd, logRetention } from './security/audit.js';
import { loginLockout, shellTimeout } from './security/login.js';
import { passwordMaxDays, passwordQuality } from './security/password.js';
import { listeningPorts } from './security/ports.js';
import { insecureRemoteServices } from './security/remote-services.js';
import { sshdSettings } from './security/ssh.js';
import { timeSync } from './security/time-sync.js';
import { defaultUmask } from './security/umask.js';
import { securityUpdates } from './security/updates.js';
import type { AnyProbe } from './types.js';

/** The host security baseline of DOMAIN.md §5, run on a Host (locally or over SSH). */
export const securityProbes: Record<string, AnyProbe> = {
  [emptyPassword.id]: emptyPassword,
  [uidZero.id]: uidZero,
  [duplicateUid.id]: duplicateUid,
  [passwordMaxDays.id]: passwordMaxDays,
  [passwordQuality.id]: passwordQuality,
  [loginLockout.id]: loginLockout,
  [shellTimeout.id]: shellTimeout,
  [sshdSettings.id]: sshdSettings,
  [insecureRemoteServices.id]: insecureRemoteServices,
  [listeningPorts.id]: listeningPorts,
  [auditd.id]: auditd,
  [logRetention.id]: logRetention,
  [timeSync.id]: timeSync,
  [securityUpdates.id]: securityUpdates,
  [defaultUmask.id]: defaultUmask,
};

/** Probes that look at a Host: the agent runs these locally, the collector over SSH. */
export const hostProbes: Record<string, AnyProbe> = {
  ...securityProbes,
  [accountInventory.id]: accountInventory,
};

/** Probes of a target (URL, host:port, name) that the collector runs from the centre. */
export const endpointProbes: Record<string, AnyProbe> = {
  [httpEndpoint.id]: httpEndpoint,
  [tlsCertificate.id]: tlsCertificate,
  [tcpConnect.id]: tcpConnect,
  [dnsResolution.id]: dnsResolution,
};

/** Probes of the public portal (DOMAIN.md §7), run from the centre. */
export const portalProbes: Record<string, AnyProbe> = {
  [columnFreshness.id]: columnFreshness,
  [homepageUpdate.id]: homepageUpdate,
  [tampering.id]: tampering,
  [securityHeaders.id]: securityHeaders,
  [brokenLinks.id]: brokenLinks,
};

/** Everything the collector runs against a target from the centre. */
export const targetProbes: Record<string, AnyProbe> = { ...endpointProbes, ...portalProbes };

export const probes: Record<string, AnyProbe> = { ...hostProbes, ...targetProbes };
