-- 0004_workflow.sql - the legal clock and the handling workflow (issue 4;
-- docs/contracts-workflow.md; DOMAIN T1-T9, H1-H5).  Idempotent like 0001:
-- every statement can be re-run.  All instants are UTC.

-- Deployment settings (DOMAIN: "where two sources differ ... a per-deployment
-- setting with the newer source as default").
CREATE TABLE IF NOT EXISTS settings (
  name   VARCHAR(64)  NOT NULL,
  value  VARCHAR(255) NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- T6: restart (000 Art.14.5.b, 004 Art.12.2.a) or resume (002 Art.12.3)
INSERT IGNORE INTO settings (name, value) VALUES ('supplement_mode', 'restart');

-- The approved internal process of a procedure, versioned: a new definition is
-- a new version; a dossier keeps the version it started with (dossiers.process_id).
CREATE TABLE IF NOT EXISTS processes (
  id            INT UNSIGNED NOT NULL AUTO_INCREMENT,
  procedure_id  INT UNSIGNED NOT NULL,
  version       INT UNSIGNED NOT NULL,
  status        ENUM('draft','active','retired') NOT NULL DEFAULT 'active',
  note          VARCHAR(1024) NULL,
  created_by    VARCHAR(128) NOT NULL DEFAULT 'system',
  created_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_processes_version (procedure_id, version),
  CONSTRAINT fk_processes_procedure FOREIGN KEY (procedure_id) REFERENCES procedures (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS process_steps (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT,
  process_id      INT UNSIGNED NOT NULL,
  position        SMALLINT UNSIGNED NOT NULL COMMENT '1..n, in order',
  name            VARCHAR(255) NOT NULL,
  agency_id       INT UNSIGNED NULL COMMENT 'NULL: the procedure''s (lead) agency',
  department_id   INT UNSIGNED NULL,
  role            ENUM('desk_officer','handling_official','department_head','agency_leader') NOT NULL,
  budget_minutes  INT UNSIGNED NOT NULL COMMENT 'working minutes (T2, T7)',
  actions         SET('forward','return','supplement','handover','refuse','extend','stop',
                      'apologise','withdraw') NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_process_steps_pos (process_id, position),
  CONSTRAINT fk_process_steps_process FOREIGN KEY (process_id) REFERENCES processes (id),
  CONSTRAINT fk_process_steps_agency FOREIGN KEY (agency_id) REFERENCES agencies (id),
  CONSTRAINT fk_process_steps_department FOREIGN KEY (department_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The dossier's place in its process and its clock.
ALTER TABLE dossiers
  ADD COLUMN IF NOT EXISTS process_id        INT UNSIGNED NULL COMMENT 'fixed at reception',
  ADD COLUMN IF NOT EXISTS stage             ENUM('reception','step','supplement','result','done','closed')
                                             NOT NULL DEFAULT 'reception',
  ADD COLUMN IF NOT EXISTS step_position     SMALLINT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS step_visit        INT UNSIGNED NULL COMMENT 'open dossier_steps.visit',
  ADD COLUMN IF NOT EXISTS current_agency_id INT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS assignee_id       INT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS receipt_at        DATETIME(6) NULL COMMENT 'T1 (UTC)',
  ADD COLUMN IF NOT EXISTS due_at            DATETIME(6) NULL COMMENT 'appointment T2 (UTC)',
  ADD COLUMN IF NOT EXISTS first_due_at      DATETIME(6) NULL COMMENT 'first appointment of the current receipt',
  ADD COLUMN IF NOT EXISTS result_at         DATETIME(6) NULL COMMENT 'T4',
  ADD COLUMN IF NOT EXISTS returned_at       DATETIME(6) NULL COMMENT 'T4',
  ADD COLUMN IF NOT EXISTS outcome           ENUM('early','on_time','late') NULL COMMENT 'T3',
  ADD COLUMN IF NOT EXISTS result_kind       ENUM('result','refusal') NULL,
  ADD COLUMN IF NOT EXISTS apologised        TINYINT(1) NOT NULL DEFAULT 0 COMMENT 'T5',
  ADD COLUMN IF NOT EXISTS supplement_count  SMALLINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'T6',
  ADD COLUMN IF NOT EXISTS paused_at         DATETIME(6) NULL COMMENT 'T6',
  ADD COLUMN IF NOT EXISTS supplement_step   SMALLINT UNSIGNED NULL COMMENT 'the step that asked',
  ADD COLUMN IF NOT EXISTS warning           ENUM('green','yellow','red') NULL COMMENT 'T9, as marked by the warner',
  ADD COLUMN IF NOT EXISTS row_version       INT UNSIGNED NOT NULL DEFAULT 0;

ALTER TABLE dossiers
  ADD INDEX IF NOT EXISTS ix_dossiers_open (stage, current_agency_id),
  ADD INDEX IF NOT EXISTS ix_dossiers_due (due_at);

-- T7: one row per visit of a step.
CREATE TABLE IF NOT EXISTS dossier_steps (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  dossier_id      BIGINT UNSIGNED NOT NULL,
  visit           INT UNSIGNED NOT NULL COMMENT '1.. per dossier',
  position        SMALLINT UNSIGNED NOT NULL,
  agency_id       INT UNSIGNED NOT NULL,
  department_id   INT UNSIGNED NULL,
  role            VARCHAR(32)  NOT NULL,
  official_id     INT UNSIGNED NULL COMMENT 'who passed it on',
  started_at      DATETIME(6)  NOT NULL,
  budget_due_at   DATETIME(6)  NOT NULL,
  ended_at        DATETIME(6)  NULL,
  used_minutes    INT UNSIGNED NULL COMMENT 'working minutes, pauses excluded',
  end_action      VARCHAR(32)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_dossier_steps_visit (dossier_id, visit),
  CONSTRAINT fk_dossier_steps_dossier FOREIGN KEY (dossier_id) REFERENCES dossiers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- T8: time per agency of a (joint) procedure.
CREATE TABLE IF NOT EXISTS dossier_agency_time (
  dossier_id         BIGINT UNSIGNED NOT NULL,
  agency_id          INT UNSIGNED NOT NULL,
  received_at        DATETIME(6)  NULL COMMENT 'last transfer to this agency',
  transfer_due_at    DATETIME(6)  NULL,
  budget_minutes     INT UNSIGNED NOT NULL,
  extension_minutes  INT UNSIGNED NOT NULL DEFAULT 0,
  used_minutes       INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (dossier_id, agency_id),
  CONSTRAINT fk_dossier_agency_time_dossier FOREIGN KEY (dossier_id) REFERENCES dossiers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- T6: pauses of the clock.
CREATE TABLE IF NOT EXISTS dossier_pauses (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  dossier_id  BIGINT UNSIGNED NOT NULL,
  started_at  DATETIME(6)  NOT NULL,
  ended_at    DATETIME(6)  NULL,
  minutes     INT UNSIGNED NULL COMMENT 'working minutes paused',
  reason      VARCHAR(32)  NOT NULL,
  PRIMARY KEY (id),
  KEY ix_dossier_pauses_dossier (dossier_id),
  CONSTRAINT fk_dossier_pauses_dossier FOREIGN KEY (dossier_id) REFERENCES dossiers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE dossier_history
  ADD COLUMN IF NOT EXISTS action         VARCHAR(32)  NULL,
  ADD COLUMN IF NOT EXISTS actor_kind     ENUM('applicant','staff','system') NULL,
  ADD COLUMN IF NOT EXISTS actor_id       BIGINT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS step_position  SMALLINT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS agency_id      INT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS department_id  INT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS step_start_at  DATETIME(6) NULL,
  ADD COLUMN IF NOT EXISTS step_due_at    DATETIME(6) NULL COMMENT 'regulated end of the step',
  ADD COLUMN IF NOT EXISTS files          JSON NULL CHECK (files IS NULL OR JSON_VALID(files)),
  ADD COLUMN IF NOT EXISTS idem_key       VARCHAR(96) NULL,
  ADD COLUMN IF NOT EXISTS reply          JSON NULL COMMENT 'the reply given, for idempotent replays';

ALTER TABLE dossier_history
  ADD UNIQUE INDEX IF NOT EXISTS uq_dossier_history_idem (dossier_id, idem_key);

-- H2: files attached by actions.
CREATE TABLE IF NOT EXISTS dossier_outputs (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  dossier_id  BIGINT UNSIGNED NOT NULL,
  history_id  BIGINT UNSIGNED NOT NULL,
  kind        ENUM('output','result','refusal','supplement_request','extension','apology','receipt',
                   'digitised','supplement') NOT NULL,
  component   VARCHAR(32)  NULL,
  sha256      CHAR(64)     NOT NULL,
  name        VARCHAR(255) NOT NULL,
  size        BIGINT UNSIGNED NOT NULL,
  media_type  VARCHAR(127) NOT NULL,
  PRIMARY KEY (id),
  KEY ix_dossier_outputs_dossier (dossier_id, kind),
  KEY ix_dossier_outputs_sha (sha256),
  CONSTRAINT fk_dossier_outputs_dossier FOREIGN KEY (dossier_id) REFERENCES dossiers (id),
  CONSTRAINT fk_dossier_outputs_history FOREIGN KEY (history_id) REFERENCES dossier_history (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Item 7: one record per history entry, for the national portal (issue 5 delivers).
CREATE TABLE IF NOT EXISTS outbox (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  dossier_id       BIGINT UNSIGNED NOT NULL,
  history_id       BIGINT UNSIGNED NOT NULL,
  kind             VARCHAR(32)  NOT NULL DEFAULT 'history',
  payload          JSON NOT NULL CHECK (JSON_VALID(payload)),
  state            ENUM('pending','sent','dead') NOT NULL DEFAULT 'pending',
  attempts         INT UNSIGNED NOT NULL DEFAULT 0,
  next_attempt_at  DATETIME(6)  NULL,
  created_at       DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_outbox_history (history_id),
  KEY ix_outbox_pending (state, next_attempt_at),
  KEY ix_outbox_dossier (dossier_id, id),
  CONSTRAINT fk_outbox_dossier FOREIGN KEY (dossier_id) REFERENCES dossiers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
