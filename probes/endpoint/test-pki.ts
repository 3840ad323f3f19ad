/** Certificates generated in tests (node-forge on keys from node:crypto): CAs, cross-signs, leaves. */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

const DAY = 86_400_000;

export interface Issued {
  pem: string;
  keyPem: string;
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
}

let serial = 1;

export function newKey(): {
  key: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
  keyPem: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return {
    key: forge.pki.privateKeyFromPem(keyPem),
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    keyPem,
  };
}

export interface IssueOptions {
  commonName: string;
  /** Days from now; negative for the past. */
  fromDays: number;
  toDays: number;
  ca?: boolean;
  dnsNames?: string[];
  /** Reuse a key (a cross-signed CA keeps its key). */
  keyPair?: ReturnType<typeof newKey>;
  issuer?: Issued;
}

export function issue(options: IssueOptions, now = Date.now()): Issued {
  const pair = options.keyPair ?? newKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = pair.publicKey;
  cert.serialNumber = (serial++).toString(16).padStart(2, '0');
  cert.validity.notBefore = new Date(now + options.fromDays * DAY);
  cert.validity.notAfter = new Date(now + options.toDays * DAY);
  const subject = [{ name: 'commonName', value: options.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(options.issuer ? options.issuer.cert.subject.attributes : subject);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: options.ca === true, critical: true },
    options.ca
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
  ];
  if (options.dnsNames)
    extensions.push({
      name: 'subjectAltName',
      altNames: options.dnsNames.map((value) => ({ type: 2, value })),
    });
  cert.setExtensions(extensions);
  cert.sign(options.issuer ? options.issuer.key : pair.key, forge.md.sha256.create());
  return {
    pem: forge.pki.certificateToPem(cert),
    keyPem: pair.keyPem,
    cert,
    key: pair.key,
    publicKey: pair.publicKey,
  };
}
