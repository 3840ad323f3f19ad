export {
  type Agent,
  AgentExistsError,
  authenticateAgent,
  type Enrollment,
  type EnrollOptions,
  enrollAgent,
  getAgentByName,
  listAgents,
} from './agents.js';
export {
  type AgentHeartbeat,
  listCheckResults,
  type RecordOutcome,
  recordCheckResults,
  recordPush,
} from './check-results.js';
export { openStore, pingStore, SQLITE_FILE, type Store } from './store.js';
