/**
 * Generates a realistic month of a city credit database (schema.sql) and the ground truth the data
 * checks must find in it. Seeded: the same arguments give the same data, byte for byte.
 *
 *   node --import tsx examples/credit-db/generate.ts --seed 42 --records 100000 --month 2026-11 \
 *     [--out <dir>] [--database-url postgres://…]
 *
 * --out writes one COPY text file per table, load.sql (psql: schema, \copy, analyze) and
 * truth.json; --database-url creates the schema and loads the rows straight into that database.
 *
 * The ground truth is computed here, record by record, from what the generator decided (which
 * codes it broke, which fields it dropped, when it published), not by the SQL the agent runs.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { WorkingDayCalendar } from '../../lib/calendar/index.js';
import { organisationCheckChar, residentIdCheckChar, usccCheckChar } from '../../lib/identifiers/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const SCHEMA_SQL = join(HERE, 'schema.sql');

/** Codes from the early pilots: they fail the check character and are on the allowlist. */
export const PILOT_CODES = ['91320500MA1P8K2N0Q', '92320582L0300F4Q8T'] as const;
/** The hour (local) after which a day's reconciliation difference is overdue, the day after. */
export const RECONCILIATION_DUE_HOUR = 12;
export const PUBLICATION_WORKING_DAYS = 7;
export const DATASETS = ['license', 'penalty'] as const;
export type DatasetName = (typeof DATASETS)[number];

const DEPARTMENT_NAMES = [
  '市发展和改革委员会',
  '市教育局',
  '市科学技术局',
  '市工业和信息化局',
  '市公安局',
  '市民政局',
  '市司法局',
  '市财政局',
  '市人力资源和社会保障局',
  '市自然资源和规划局',
  '市生态环境局',
  '市住房和城乡建设局',
  '市交通运输局',
  '市水务局',
  '市农业农村局',
  '市商务局',
  '市文化广电和旅游局',
  '市卫生健康委员会',
  '市退役军人事务局',
  '市应急管理局',
  '市审计局',
  '市市场监督管理局',
  '市体育局',
  '市统计局',
  '市医疗保障局',
  '市城市管理局',
  '市林业局',
  '市人民防空办公室',
  '市地方金融监督管理局',
  '市行政审批局',
  '市税务局',
  '市气象局',
  '市烟草专卖局',
  '市消防救援支队',
  '市邮政管理局',
  '市粮食和物资储备局',
  '市机关事务管理局',
  '市档案局',
  '市民族宗教事务局',
  '市海关',
];

// --- seeded randomness (mulberry32) ---------------------------------------------------------
function rngFrom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// --- dates: the city is in UTC+8 without daylight saving ------------------------------------
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const OFFSET = 8 * HOUR;
const dayNames = new Map<number, string>();
/** The civil date of an instant; by day number, cached: a million records fall on a few dozen days. */
function civil(ms: number): string {
  const day = Math.floor((ms + OFFSET) / DAY);
  let name = dayNames.get(day);
  if (name === undefined) {
    name = new Date(day * DAY).toISOString().slice(0, 10);
    dayNames.set(day, name);
  }
  return name;
}
function localMidnight(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) - OFFSET;
}
const dayNumbers = new Map<string, number>();
function addDays(date: string, n: number): string {
  let day = dayNumbers.get(date);
  if (day === undefined) {
    day = Date.parse(`${date}T00:00:00Z`) / DAY;
    dayNumbers.set(date, day);
  }
  return civil((day + n) * DAY - OFFSET);
}
function iso(ms: number): string {
  return new Date(ms + OFFSET).toISOString().replace('Z', '+08:00');
}

export interface GenerateOptions {
  seed: number;
  records: number;
  /** YYYY-MM */
  month: string;
}

export interface Department {
  code: string;
  name: string;
  uscc: string;
  expected_cadence_days: number;
}

/** One row of license_record or penalty_record, column names as in schema.sql. */
export type RecordRow = Record<string, string | number | null> & {
  id: number;
  department_code: string;
  received_at: string;
  published_at: string | null;
};

export interface DepartmentTruth {
  newestAt: string | null;
  recordsToday: number;
  recordsMonth: number;
  silent: boolean;
  /** Records of the month whose publication lag can be judged: published, or unpublished and overdue. */
  timelyBase: number;
  onTime: number;
  overdue: number;
  valid: number;
  pilot: number;
  invalid: Record<'code' | 'mandatory' | 'date' | 'duplicate' | 'fine', number>;
  mandatoryPresent: number;
  mandatoryRequired: number;
}

export interface DatasetTruth {
  departments: Record<string, DepartmentTruth>;
  backlog: { items: number; oldestAt: string | null };
  reconciliation: { overdueDifference: number; overdueDays: string[]; pendingDifference: number };
  stillPublic: { decisionNo: string; reason: 'repaired' | 'expired' }[];
}

export interface GroundTruth {
  seed: number;
  records: number;
  month: string;
  now: string;
  today: string;
  pilotCodes: string[];
  datasets: Record<DatasetName, DatasetTruth>;
  silentDepartments: string[];
}

type Cells = Record<string, string | number | null | undefined>;

export interface Generated {
  departments: Department[];
  license_record: RecordRow[];
  penalty_record: RecordRow[];
  exchange_log: Cells[];
  credit_repair: Cells[];
  publicity: Cells[];
  nonstandard_queue: Cells[];
  truth: GroundTruth;
}

export const MANDATORY: Record<DatasetName, string[]> = {
  license: ['party_name', 'party_code', 'decision_no', 'decision_date', 'license_content', 'authority_name'],
  penalty: [
    'party_name',
    'party_code',
    'decision_no',
    'decision_date',
    'legal_basis',
    'penalty_type',
    'authority_name',
  ],
};

type Defect = 'code' | 'mandatory' | 'date' | 'duplicate' | 'fine';

interface Profile {
  weight: number;
  late: boolean;
  silent: boolean;
  monthly: boolean;
  sloppy: boolean;
  uploadDays: number[];
}

const USCC_ALPHA = '0123456789ABCDEFGHJKLMNPQRTUWXY';

export function generate(options: GenerateOptions): Generated {
  const rand = rngFrom(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const calendar = new WorkingDayCalendar();

  const monthStart = `${options.month}-01`;
  const [year, monthNo] = options.month.split('-').map(Number) as [number, number];
  const daysInMonth = new Date(Date.UTC(year, monthNo, 0)).getUTCDate();
  const today = `${options.month}-${String(daysInMonth).padStart(2, '0')}`;
  const nowMs = localMidnight(today) + 15 * HOUR;

  const usccOf = (prefix: string, division: string): string => {
    let body = '';
    for (let i = 0; i < 8; i++)
      body += pick([...'0123456789ABCDEFGHJKLMNPQRTUWXY'.slice(0, i < 2 ? 31 : 10)]);
    const first17 = prefix + division + body + organisationCheckChar(body)!;
    return first17 + usccCheckChar(first17)!;
  };
  const residentId = (): string => {
    const birth = addDays('1950-01-01', int(0, 365 * 55));
    const first17 = `3205${String(int(1, 99)).padStart(2, '0')}${birth.replaceAll('-', '')}${String(int(0, 999)).padStart(3, '0')}`;
    return first17 + residentIdCheckChar(first17)!;
  };
  const breakCode = (code: string, kind: 'legal' | 'natural'): string => {
    if (kind === 'legal') {
      const i = USCC_ALPHA.indexOf(code[17]!);
      return code.slice(0, 17) + USCC_ALPHA[(i + 1 + int(0, 29)) % 31];
    }
    return rand() < 0.5
      ? `${code.slice(0, 17)}${code[17] === '0' ? '1' : '0'}`
      : // 31 February does not exist, whatever the check character.
        `${code.slice(0, 10)}0231${code.slice(14)}`;
  };

  // --- departments and their habits ---------------------------------------------------------
  const departments: Department[] = [];
  const profiles = new Map<string, Profile>();
  const order = DEPARTMENT_NAMES.map((_, i) => i).sort(() => rand() - 0.5);
  const silentSet = new Set(order.slice(0, 3));
  const lateSet = new Set(order.slice(3, 8));
  const monthlySet = new Set(order.slice(8, 12));
  const sloppySet = new Set(order.slice(12, 16));
  DEPARTMENT_NAMES.forEach((name, i) => {
    const code = `D${String(i + 1).padStart(2, '0')}`;
    const monthly = monthlySet.has(i);
    const silent = silentSet.has(i);
    departments.push({ code, name, uscc: usccOf('11', '320500'), expected_cadence_days: monthly ? 30 : 7 });
    let uploadDays: number[];
    if (monthly) uploadDays = [int(3, 8), int(9, 12)];
    else if (silent) uploadDays = Array.from({ length: 10 }, (_, d) => d + 1).filter(() => rand() < 0.8);
    else
      uploadDays = Array.from({ length: daysInMonth }, (_, d) => d + 1).filter(
        (d) => d === daysInMonth || rand() < 0.85,
      );
    if (uploadDays.length === 0) uploadDays = [1];
    profiles.set(code, {
      weight: 0.3 + rand() * 2.7,
      late: lateSet.has(i),
      silent,
      monthly,
      sloppy: sloppySet.has(i),
      uploadDays,
    });
  });
  const totalWeight = [...profiles.values()].reduce((s, p) => s + p.weight, 0);

  const tables: Generated = {
    departments,
    license_record: [],
    penalty_record: [],
    exchange_log: [],
    credit_repair: [],
    publicity: [],
    nonstandard_queue: [],
    truth: undefined as unknown as GroundTruth,
  };
  const defects = new Map<RecordRow, Defect[]>();
  const pilotUsed = new Set<RecordRow>();
  let nextId = 1;
  let queueId = 1;

  const makeRecord = (dataset: DatasetName, dept: Department, profile: Profile): RecordRow => {
    const dayIndex = pick(profile.uploadDays);
    const date = `${options.month}-${String(dayIndex).padStart(2, '0')}`;
    const lastMinute = dayIndex === daysInMonth ? 15 * 60 - 1 : 18 * 60;
    const receivedMs = localMidnight(date) + int(8 * 60 + 30, lastMinute) * 60_000;
    const delay = profile.late ? int(8, 20) : int(0, 4);
    const decisionDate = addDays(date, -delay);
    const kind: 'legal' | 'natural' = rand() < 0.8 ? 'legal' : 'natural';
    const id = nextId++;
    const serial = String(id).padStart(7, '0');
    const row: RecordRow = {
      id,
      department_code: dept.code,
      party_name:
        kind === 'legal'
          ? `苏州某某${pick(['科技', '贸易', '建设', '餐饮', '物流'])}有限公司${serial}`
          : `张${serial}`,
      party_kind: kind,
      party_uscc: kind === 'legal' ? usccOf(pick(['91', '92', '93', '52']), '320500') : null,
      legal_rep: kind === 'legal' ? `李${serial}` : null,
      id_type: kind === 'natural' ? '身份证' : null,
      id_number: kind === 'natural' ? residentId() : null,
      decision_no:
        dataset === 'penalty'
          ? `苏${dept.code}罚决〔${year}〕${serial}号`
          : `苏${dept.code}许〔${year}〕${serial}号`,
      decision_date: decisionDate,
      authority_name: dept.name,
      authority_uscc: dept.uscc,
      source_uscc: dept.uscc,
      received_at: iso(receivedMs),
      published_at: null,
    };
    if (dataset === 'license') {
      row.license_type = pick(['普通', '特许', '认可', '核准', '登记']);
      row.license_content = `准予${pick(['食品经营', '建设工程施工', '排污', '道路运输经营', '药品零售'])}许可`;
      row.valid_until = addDays(decisionDate, 365 * int(1, 5));
    } else {
      const penaltyType = pick(['罚款', '罚款', '罚款', '警告', '罚款;没收违法所得', '责令停产停业']);
      row.violation_type = pick(['无证经营', '超标排放', '虚假宣传', '未按规定公示']);
      row.violation_facts = '经查，当事人存在上述违法行为。';
      row.legal_basis = '《中华人民共和国行政处罚法》第二十八条';
      row.penalty_type = penaltyType;
      row.penalty_content = penaltyType.includes('罚款') ? '处以罚款' : penaltyType;
      row.fine_amount = penaltyType.includes('罚款') ? (int(5, 5000) / 100).toFixed(4) : null;
      row.confiscation_amount = penaltyType.includes('没收') ? (int(1, 900) / 100).toFixed(4) : null;
      row.valid_until = addDays(decisionDate, 365);
      row.publicity_end = addDays(decisionDate, rand() < 0.8 ? 365 : 365 * 3);
    }
    // Defects, as a careless upload makes them.
    const rates = profile.sloppy ? { code: 0.08, mandatory: 0.05 } : { code: 0.005, mandatory: 0.005 };
    const found: Defect[] = [];
    if (kind === 'legal' && rand() < 0.004) {
      row.party_uscc = pick(PILOT_CODES);
      pilotUsed.add(row);
    } else if (rand() < rates.code) {
      if (kind === 'legal') row.party_uscc = breakCode(row.party_uscc as string, 'legal');
      else row.id_number = breakCode(row.id_number as string, 'natural');
      found.push('code');
    }
    if (rand() < rates.mandatory) {
      const column = pick(
        dataset === 'penalty'
          ? ['party_name', 'legal_basis', 'authority_name']
          : ['party_name', 'license_content', 'authority_name'],
      );
      row[column] = rand() < 0.5 ? null : '';
      found.push('mandatory');
    }
    if (rand() < 0.003) {
      if (dataset === 'penalty' && rand() < 0.5) row.publicity_end = addDays(decisionDate, -30);
      else row.decision_date = addDays(today, int(3, 40));
      found.push('date');
    }
    if (dataset === 'penalty' && String(row.penalty_type).includes('罚款') && rand() < 0.01) {
      row.fine_amount = rand() < 0.5 ? null : '0.0000';
      found.push('fine');
    }
    defects.set(row, found);
    return row;
  };

  // --- the month's uploads --------------------------------------------------------------------
  const counts: Record<DatasetName, number> = {
    license: Math.round(options.records * 0.4),
    penalty: 0,
  };
  counts.penalty = options.records - counts.license;
  const deptList = departments.map((d) => ({ dept: d, profile: profiles.get(d.code)! }));
  for (const dataset of DATASETS) {
    const rows = dataset === 'license' ? tables.license_record : tables.penalty_record;
    const specials = dataset === 'penalty' ? 2 : 0;
    let remaining = counts[dataset] - specials;
    const dupes: RecordRow[] = [];
    while (remaining > 0) {
      let r = rand() * totalWeight;
      let chosen = deptList[0]!;
      for (const entry of deptList) {
        r -= entry.profile.weight;
        if (r <= 0) {
          chosen = entry;
          break;
        }
      }
      const previous = rows.length > 0 && rand() < 0.003 ? rows[rows.length - 1] : undefined;
      if (previous && defects.get(previous)!.length === 0) {
        // The same decision uploaded twice (a retry after a timeout): same number, same party.
        const copy: RecordRow = { ...previous, id: nextId++ };
        const later = Date.parse(previous.received_at) + int(1, 120) * 60_000;
        copy.received_at = iso(Math.min(later, nowMs - 60_000));
        rows.push(copy);
        defects.set(copy, ['duplicate']);
        dupes.push(copy);
      } else {
        rows.push(makeRecord(dataset, chosen.dept, chosen.profile));
      }
      remaining--;
    }
    if (dataset === 'penalty') {
      // Two penalties of 2025 whose publicity has ended: one withdrawn, one still public.
      for (const k of [0, 1]) {
        const dept = departments[k]!;
        const decided = `${year - 1}-0${3 + k}-10`;
        const row = makeRecord('penalty', dept, profiles.get(dept.code)!);
        Object.assign(row, {
          decision_date: decided,
          publicity_end: addDays(decided, 180),
          valid_until: addDays(decided, 180),
          received_at: iso(localMidnight(addDays(decided, 2)) + 10 * HOUR),
          decision_no: String(row.decision_no).replace(`〔${year}〕`, `〔${year - 1}〕`),
        });
        defects.set(row, []);
        pilotUsed.delete(row);
        if (row.party_uscc && PILOT_CODES.includes(row.party_uscc as (typeof PILOT_CODES)[number]))
          row.party_uscc = usccOf('91', '320500');
        rows.push(row);
      }
    }
  }

  // --- publication, the non-standard queue ------------------------------------------------------
  const monthStartMs = localMidnight(monthStart);
  for (const dataset of DATASETS) {
    const rows = dataset === 'license' ? tables.license_record : tables.penalty_record;
    for (const row of rows) {
      const bad = defects.get(row)!;
      const receivedMs = Date.parse(row.received_at);
      if (receivedMs < monthStartMs) continue; // the 2025 penalties, published below
      if (bad.length > 0) {
        const resolvedMs = receivedMs + int(1, 72) * HOUR;
        tables.nonstandard_queue.push({
          id: queueId++,
          dataset,
          record_id: row.id,
          department_code: row.department_code,
          reason: bad.join(','),
          received_at: row.received_at,
          resolved_at: rand() < 0.6 && resolvedMs <= nowMs ? iso(resolvedMs) : null,
        });
        continue;
      }
      // Most valid records are published within hours; a few wait in the publication backlog.
      if (rand() < 0.01) continue;
      const publishedMs = receivedMs + int(10, 240) * 60_000;
      if (publishedMs > nowMs) continue;
      row.published_at = iso(publishedMs);
      tables.publicity.push({
        dataset,
        record_id: row.id,
        department_code: row.department_code,
        decision_no: row.decision_no,
        party_name: row.party_name,
        published_at: row.published_at,
        publicity_end: dataset === 'penalty' ? row.publicity_end : null,
      });
    }
  }
  // Items the departments never corrected, from before the month.
  for (const [k, dataset] of DATASETS.entries()) {
    tables.nonstandard_queue.push({
      id: queueId++,
      dataset,
      record_id: 0,
      department_code: departments[5 + k]!.code,
      reason: 'mandatory',
      received_at: iso(monthStartMs - (12 + 5 * k) * DAY + 9 * HOUR),
      resolved_at: null,
    });
  }

  // --- credit repair and expiry -----------------------------------------------------------------
  const stillPublic: Record<DatasetName, { decisionNo: string; reason: 'repaired' | 'expired' }[]> = {
    license: [],
    penalty: [],
  };
  const publishedPenalties = tables.penalty_record.filter(
    (r) => r.published_at !== null && Date.parse(r.received_at) >= monthStartMs,
  );
  const repairedIds = new Set<number>();
  for (let k = 0; k < 6; k++) {
    const row = publishedPenalties[Math.floor((k + 0.5) * (publishedPenalties.length / 6))]!;
    if (repairedIds.has(row.id)) continue;
    repairedIds.add(row.id);
    tables.credit_repair.push({
      id: k + 1,
      dataset: 'penalty',
      record_id: row.id,
      decision_no: row.decision_no,
      approved_at: iso(Math.min(Date.parse(row.published_at!) + 2 * DAY, nowMs - HOUR)),
    });
    // Four are withdrawn properly; two stay on the portal (the failure this check exists for).
    if (k < 4)
      tables.publicity = tables.publicity.filter((p) => !(p.dataset === 'penalty' && p.record_id === row.id));
    else stillPublic.penalty.push({ decisionNo: String(row.decision_no), reason: 'repaired' });
  }
  const expired = tables.penalty_record.filter((r) => String(r.decision_date) < `${year}-01-01`);
  for (const [k, row] of expired.entries()) {
    const published = iso(Date.parse(row.received_at) + HOUR);
    row.published_at = published;
    if (k === 0) continue; // withdrawn when its publicity ended
    tables.publicity.push({
      dataset: 'penalty',
      record_id: row.id,
      department_code: row.department_code,
      decision_no: row.decision_no,
      party_name: row.party_name,
      published_at: published,
      publicity_end: row.publicity_end,
    });
    stillPublic.penalty.push({ decisionNo: String(row.decision_no), reason: 'expired' });
  }

  // --- exchange with the province: one day short in penalties -------------------------------------
  const reconciliation: Record<DatasetName, DatasetTruth['reconciliation']> = {
    license: { overdueDifference: 0, overdueDays: [], pendingDifference: 0 },
    penalty: { overdueDifference: 0, overdueDays: [], pendingDifference: 0 },
  };
  const gapDay = `${options.month}-18`;
  for (const dataset of DATASETS) {
    const rows = dataset === 'license' ? tables.license_record : tables.penalty_record;
    const perDay = new Map<string, number>();
    for (const r of rows) {
      if (r.published_at === null || Date.parse(r.published_at) < monthStartMs) continue;
      const day = civil(Date.parse(r.published_at));
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    for (let d = 1; d <= daysInMonth; d++) {
      const day = `${options.month}-${String(d).padStart(2, '0')}`;
      const local = perDay.get(day) ?? 0;
      if (day === today) {
        // Today's exchange runs tonight.
        reconciliation[dataset].pendingDifference += local;
        continue;
      }
      let acknowledged = local;
      if (dataset === 'penalty' && day === gapDay) {
        acknowledged = local - Math.min(37, Math.floor(local / 2));
        reconciliation[dataset].overdueDifference += local - acknowledged;
        if (local !== acknowledged) reconciliation[dataset].overdueDays.push(day);
      }
      const sentMs = localMidnight(addDays(day, 1)) + HOUR;
      tables.exchange_log.push({
        dataset,
        day,
        sent_count: local,
        acknowledged_count: acknowledged,
        sent_at: iso(sentMs),
        acknowledged_at: iso(sentMs + 2 * HOUR),
      });
    }
  }

  // --- ground truth, record by record -----------------------------------------------------------
  const todayStartMs = localMidnight(today);
  const lagCache = new Map<string, number>();
  const lag = (a: string, b: string) => {
    const key = `${a}|${b}`;
    let v = lagCache.get(key);
    if (v === undefined) {
      v = calendar.workingDaysBetween(a, b).days;
      lagCache.set(key, v);
    }
    return v;
  };
  const datasetsTruth = {} as Record<DatasetName, DatasetTruth>;
  const silentDepartments = new Set<string>();
  for (const dataset of DATASETS) {
    const rows = dataset === 'license' ? tables.license_record : tables.penalty_record;
    const perDept: Record<string, DepartmentTruth> = {};
    for (const d of departments) {
      perDept[d.code] = {
        newestAt: null,
        recordsToday: 0,
        recordsMonth: 0,
        silent: false,
        timelyBase: 0,
        onTime: 0,
        overdue: 0,
        valid: 0,
        pilot: 0,
        invalid: { code: 0, mandatory: 0, date: 0, duplicate: 0, fine: 0 },
        mandatoryPresent: 0,
        mandatoryRequired: 0,
      };
    }
    const newestMs = new Map<string, number>();
    for (const r of rows) {
      const t = perDept[r.department_code]!;
      const receivedMs = Date.parse(r.received_at);
      if (receivedMs > (newestMs.get(r.department_code) ?? -Infinity))
        newestMs.set(r.department_code, receivedMs);
      if (receivedMs < monthStartMs) continue;
      t.recordsMonth++;
      if (receivedMs >= todayStartMs) t.recordsToday++;
      const bad = defects.get(r)!;
      // Which columns the generator emptied: counted from its own list of defects.
      const missing = bad.includes('mandatory') ? 1 : 0;
      t.mandatoryRequired += MANDATORY[dataset].length;
      t.mandatoryPresent += MANDATORY[dataset].length - missing;
      if (bad.length === 0) t.valid++;
      for (const b of bad) t.invalid[b]++;
      if (pilotUsed.has(r)) t.pilot++;
      const decided = String(r.decision_date);
      if (decided > today) continue;
      if (r.published_at !== null) {
        t.timelyBase++;
        if (lag(decided, civil(Date.parse(r.published_at))) <= PUBLICATION_WORKING_DAYS) t.onTime++;
      } else if (lag(decided, today) > PUBLICATION_WORKING_DAYS) {
        t.timelyBase++;
        t.overdue++;
      }
    }
    for (const d of departments) {
      const t = perDept[d.code]!;
      const newest = newestMs.get(d.code);
      t.newestAt = newest === undefined ? null : new Date(newest).toISOString();
      t.silent = newest === undefined || nowMs - newest > d.expected_cadence_days * DAY;
      if (t.silent) silentDepartments.add(d.code);
    }
    const open = tables.nonstandard_queue.filter((q) => q.dataset === dataset && q.resolved_at === null);
    const oldest = open.reduce<number | null>((m, q) => {
      const t = Date.parse(String(q.received_at));
      return m === null || t < m ? t : m;
    }, null);
    datasetsTruth[dataset] = {
      departments: perDept,
      backlog: { items: open.length, oldestAt: oldest === null ? null : new Date(oldest).toISOString() },
      reconciliation: reconciliation[dataset],
      stillPublic: stillPublic[dataset].sort((a, b) => a.decisionNo.localeCompare(b.decisionNo)),
    };
  }
  tables.truth = {
    seed: options.seed,
    records: options.records,
    month: options.month,
    now: new Date(nowMs).toISOString(),
    today,
    pilotCodes: [...PILOT_CODES],
    datasets: datasetsTruth,
    silentDepartments: [...silentDepartments].sort(),
  };
  return tables;
}

// --- output -----------------------------------------------------------------------------------------
const COLUMNS: Record<string, string[]> = {
  department: ['code', 'name', 'uscc', 'expected_cadence_days'],
  license_record: [
    'id',
    'department_code',
    'party_name',
    'party_kind',
    'party_uscc',
    'legal_rep',
    'id_type',
    'id_number',
    'decision_no',
    'license_type',
    'license_content',
    'decision_date',
    'valid_until',
    'authority_name',
    'authority_uscc',
    'source_uscc',
    'received_at',
    'published_at',
  ],
  penalty_record: [
    'id',
    'department_code',
    'party_name',
    'party_kind',
    'party_uscc',
    'legal_rep',
    'id_type',
    'id_number',
    'decision_no',
    'violation_type',
    'violation_facts',
    'legal_basis',
    'penalty_type',
    'penalty_content',
    'fine_amount',
    'confiscation_amount',
    'decision_date',
    'valid_until',
    'publicity_end',
    'authority_name',
    'authority_uscc',
    'source_uscc',
    'received_at',
    'published_at',
  ],
  exchange_log: ['dataset', 'day', 'sent_count', 'acknowledged_count', 'sent_at', 'acknowledged_at'],
  credit_repair: ['id', 'dataset', 'record_id', 'decision_no', 'approved_at'],
  publicity: [
    'dataset',
    'record_id',
    'department_code',
    'decision_no',
    'party_name',
    'published_at',
    'publicity_end',
  ],
  nonstandard_queue: [
    'id',
    'dataset',
    'record_id',
    'department_code',
    'reason',
    'received_at',
    'resolved_at',
  ],
};

function tableRows(g: Generated, table: string): Record<string, unknown>[] {
  return table === 'department'
    ? (g.departments as unknown as Record<string, unknown>[])
    : (g[table as keyof Generated] as Record<string, unknown>[]);
}

function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  return String(v).replaceAll('\\', '\\\\').replaceAll('\t', '\\t').replaceAll('\n', '\\n');
}

/** Writes <table>.tsv (COPY text format), load.sql and truth.json into dir. */
export function writeFiles(g: Generated, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const load = [readFileSync(SCHEMA_SQL, 'utf8'), ''];
  for (const [table, cols] of Object.entries(COLUMNS)) {
    const lines = tableRows(g, table).map((r) => cols.map((c) => copyValue(r[c])).join('\t'));
    writeFileSync(join(dir, `${table}.tsv`), lines.length ? `${lines.join('\n')}\n` : '');
    load.push(`\\copy ${table} (${cols.join(', ')}) FROM '${table}.tsv'`);
  }
  load.push('ANALYZE;', '');
  writeFileSync(join(dir, 'load.sql'), load.join('\n'));
  writeFileSync(join(dir, 'truth.json'), `${JSON.stringify(g.truth, null, 2)}\n`);
}

/** Creates the schema in an empty database and loads the rows, 20,000 at a time as JSON. */
export async function loadInto(g: Generated, config: pg.ClientConfig | string): Promise<void> {
  const client = new pg.Client(config as pg.ClientConfig);
  await client.connect();
  try {
    await client.query(readFileSync(SCHEMA_SQL, 'utf8'));
    for (const [table, cols] of Object.entries(COLUMNS)) {
      const rows = tableRows(g, table);
      for (let i = 0; i < rows.length; i += 20_000) {
        const batch = rows
          .slice(i, i + 20_000)
          .map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null])));
        await client.query(
          `INSERT INTO ${table} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM json_populate_recordset(NULL::${table}, $1)`,
          [JSON.stringify(batch)],
        );
      }
    }
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '42' },
      records: { type: 'string', default: '100000' },
      month: { type: 'string', default: '2026-11' },
      out: { type: 'string' },
      'database-url': { type: 'string' },
    },
  });
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(values.month!))
    throw new Error(`--month must be YYYY-MM, not ${values.month}`);
  const started = Date.now();
  const g = generate({ seed: Number(values.seed), records: Number(values.records), month: values.month! });
  if (values.out) writeFiles(g, values.out);
  if (values['database-url']) await loadInto(g, { connectionString: values['database-url'] });
  if (!values.out && !values['database-url']) process.stdout.write(`${JSON.stringify(g.truth, null, 2)}\n`);
  process.stderr.write(
    `generated ${g.license_record.length + g.penalty_record.length} records for ${g.departments.length} departments in ${Date.now() - started} ms\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
