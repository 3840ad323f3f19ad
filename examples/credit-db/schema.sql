-- A city credit database (公共信用信息管理系统), reduced to what creditops watches. The real schema
-- differs from city to city; creditops-agent.yaml maps this one onto the data checks.

CREATE TABLE department (
  code text PRIMARY KEY,                        -- 部门编码
  name text NOT NULL,                           -- 部门名称
  uscc text NOT NULL,                           -- 部门统一社会信用代码
  expected_cadence_days integer NOT NULL DEFAULT 7  -- 约定报送周期（天）
);

-- 行政许可 (administrative licensing) and 行政处罚 (administrative penalty) decisions as the
-- departments uploaded them. Records that failed validation stay here and also enter the
-- non-standard queue; they are not published.
CREATE TABLE license_record (
  id bigint PRIMARY KEY,
  department_code text NOT NULL REFERENCES department (code),
  party_name text,              -- 行政相对人名称
  party_kind text NOT NULL,     -- legal 法人及非法人组织 | natural 自然人
  party_uscc text,              -- 统一社会信用代码
  legal_rep text,               -- 法定代表人
  id_type text,                 -- 证件类型
  id_number text,               -- 证件号码
  decision_no text,             -- 行政许可决定文书号
  license_type text,            -- 许可类别
  license_content text,         -- 许可内容
  decision_date date,           -- 许可决定日期
  valid_until date,             -- 有效期至
  authority_name text,          -- 许可机关
  authority_uscc text,          -- 许可机关统一社会信用代码
  source_uscc text,             -- 数据来源单位统一社会信用代码
  received_at timestamptz NOT NULL,  -- 归集时间
  published_at timestamptz           -- 公示时间 (null: not published)
);

CREATE TABLE penalty_record (
  id bigint PRIMARY KEY,
  department_code text NOT NULL REFERENCES department (code),
  party_name text,              -- 行政相对人名称
  party_kind text NOT NULL,     -- legal | natural
  party_uscc text,              -- 统一社会信用代码
  legal_rep text,               -- 法定代表人
  id_type text,                 -- 证件类型
  id_number text,               -- 证件号码
  decision_no text,             -- 行政处罚决定书文号
  violation_type text,          -- 违法行为类型
  violation_facts text,         -- 违法事实
  legal_basis text,             -- 处罚依据
  penalty_type text,            -- 处罚类别 (e.g. 罚款;警告)
  penalty_content text,         -- 处罚内容
  fine_amount numeric(14, 4),   -- 罚款金额（万元）
  confiscation_amount numeric(14, 4), -- 没收违法所得、没收非法财物的金额（万元）
  decision_date date,           -- 处罚决定日期
  valid_until date,             -- 处罚有效期
  publicity_end date,           -- 公示截止期
  authority_name text,          -- 处罚机关
  authority_uscc text,          -- 处罚机关统一社会信用代码
  source_uscc text,             -- 数据来源单位统一社会信用代码
  received_at timestamptz NOT NULL,
  published_at timestamptz
);

CREATE INDEX license_record_dept_received ON license_record (department_code, received_at);
CREATE INDEX license_record_received ON license_record (received_at);
CREATE INDEX penalty_record_dept_received ON penalty_record (department_code, received_at);
CREATE INDEX penalty_record_received ON penalty_record (received_at);

-- Daily exchange with the provincial platform (省信用信息共享平台): what was sent for a day and
-- how many records the province acknowledged.
CREATE TABLE exchange_log (
  dataset text NOT NULL,        -- license | penalty
  day date NOT NULL,
  sent_count integer NOT NULL,
  acknowledged_count integer,   -- null: no acknowledgement yet
  sent_at timestamptz NOT NULL,
  acknowledged_at timestamptz,
  PRIMARY KEY (dataset, day)
);

-- 信用修复: a repaired penalty must be withdrawn from every public display.
CREATE TABLE credit_repair (
  id bigint PRIMARY KEY,
  dataset text NOT NULL,
  record_id bigint NOT NULL,
  decision_no text NOT NULL,
  approved_at timestamptz NOT NULL
);

-- What the portal (信用网站) reads: one row per record on public display.
CREATE TABLE publicity (
  dataset text NOT NULL,
  record_id bigint NOT NULL,
  department_code text NOT NULL,
  decision_no text,
  party_name text,
  published_at timestamptz NOT NULL,
  publicity_end date,
  PRIMARY KEY (dataset, record_id)
);

-- 非标数据: uploads that failed validation, waiting for the department to correct them.
CREATE TABLE nonstandard_queue (
  id bigint PRIMARY KEY,
  dataset text NOT NULL,
  record_id bigint NOT NULL,
  department_code text NOT NULL,
  reason text NOT NULL,
  received_at timestamptz NOT NULL,
  resolved_at timestamptz
);
CREATE INDEX nonstandard_queue_open ON nonstandard_queue (dataset) WHERE resolved_at IS NULL;

-- The monitoring role reads, never writes.
-- CREATE ROLE creditops_monitor LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO creditops_monitor;
