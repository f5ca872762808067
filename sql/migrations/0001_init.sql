-- 0001_init.sql - base schema of tthc (docs/contracts.md).
-- Idempotent: every statement can be re-run (IF NOT EXISTS), so a migration
-- interrupted half-way can simply be applied again.  All instants are UTC
-- (the workers set time_zone='+00:00' on every connection).

CREATE TABLE IF NOT EXISTS schema_migrations (
  version     INT UNSIGNED NOT NULL,
  name        VARCHAR(255) NOT NULL,
  checksum    CHAR(64)     NOT NULL COMMENT 'sha256 hex of the migration file',
  applied_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS agencies (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT,
  code       VARCHAR(32)  NOT NULL COMMENT 'national agency code, e.g. 000.00.31.H41',
  name       VARCHAR(255) NOT NULL,
  parent_id  INT UNSIGNED NULL,
  level      TINYINT UNSIGNED NOT NULL DEFAULT 1 COMMENT '1 province, 2 department/district, 3 commune',
  PRIMARY KEY (id),
  UNIQUE KEY uq_agencies_code (code),
  KEY ix_agencies_parent (parent_id),
  CONSTRAINT fk_agencies_parent FOREIGN KEY (parent_id) REFERENCES agencies (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS departments (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT,
  agency_id  INT UNSIGNED NOT NULL,
  name       VARCHAR(255) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_departments_name (agency_id, name),
  CONSTRAINT fk_departments_agency FOREIGN KEY (agency_id) REFERENCES agencies (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS fields (
  id    INT UNSIGNED NOT NULL AUTO_INCREMENT,
  code  VARCHAR(32)  NOT NULL,
  name  VARCHAR(255) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_fields_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS procedures (
  id                 INT UNSIGNED NOT NULL AUTO_INCREMENT,
  code               VARCHAR(32)  NOT NULL COMMENT 'national procedure code, e.g. 1.001234.000.00.00.H41',
  name               VARCHAR(512) NOT NULL,
  field_id           INT UNSIGNED NOT NULL,
  agency_id          INT UNSIGNED NOT NULL COMMENT 'receiving / handling agency',
  online_level       ENUM('full','partial') NOT NULL DEFAULT 'partial',
  processing_amount  INT UNSIGNED NOT NULL,
  processing_unit    ENUM('working_day','working_hour') NOT NULL DEFAULT 'working_day',
  result_channels    SET('online','desk','postal') NOT NULL DEFAULT 'desk',
  status             ENUM('active','retired') NOT NULL DEFAULT 'active',
  updated_at         DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_procedures_code (code),
  KEY ix_procedures_agency (agency_id),
  KEY ix_procedures_field (field_id),
  CONSTRAINT fk_procedures_field FOREIGN KEY (field_id) REFERENCES fields (id),
  CONSTRAINT fk_procedures_agency FOREIGN KEY (agency_id) REFERENCES agencies (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS procedure_fees (
  id            INT UNSIGNED NOT NULL AUTO_INCREMENT,
  procedure_id  INT UNSIGNED NOT NULL,
  name          VARCHAR(255) NOT NULL,
  amount        BIGINT UNSIGNED NOT NULL COMMENT 'VND',
  PRIMARY KEY (id),
  UNIQUE KEY uq_procedure_fees_name (procedure_id, name),
  CONSTRAINT fk_procedure_fees_procedure FOREIGN KEY (procedure_id) REFERENCES procedures (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS components (
  id            INT UNSIGNED NOT NULL AUTO_INCREMENT,
  procedure_id  INT UNSIGNED NOT NULL,
  code          VARCHAR(32)  NOT NULL,
  name          VARCHAR(512) NOT NULL,
  required      TINYINT(1)   NOT NULL DEFAULT 1,
  max_size      BIGINT UNSIGNED NOT NULL COMMENT 'bytes',
  media_types   VARCHAR(255) NOT NULL COMMENT 'comma separated list',
  position      SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  UNIQUE KEY uq_components_code (procedure_id, code),
  CONSTRAINT fk_components_procedure FOREIGN KEY (procedure_id) REFERENCES procedures (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- T2a: the official calendar, loaded per year as data.  'holiday' = a day off
-- on a weekday (statutory or substitute / swapped day); 'makeup_workday' = a
-- Saturday or Sunday worked in exchange for a swapped day.
CREATE TABLE IF NOT EXISTS holidays (
  day   DATE NOT NULL,
  kind  ENUM('holiday','makeup_workday') NOT NULL,
  name  VARCHAR(255) NOT NULL,
  PRIMARY KEY (day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS dossiers (
  id                   BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  code                 VARCHAR(64)  NOT NULL COMMENT 'D1: AGENCY-YYMMDD-XXXX, never changes (D2)',
  agency_id            INT UNSIGNED NOT NULL COMMENT 'receiving agency',
  seq_date             CHAR(6)      NOT NULL COMMENT 'YYMMDD, local date (Asia/Ho_Chi_Minh)',
  seq                  INT UNSIGNED NOT NULL,
  procedure_id         INT UNSIGNED NOT NULL,
  channel              ENUM('online','counter','postal') NOT NULL,
  status               TINYINT UNSIGNED NOT NULL DEFAULT 1 COMMENT 'national status 1..10',
  applicant_type       VARCHAR(32)  NOT NULL,
  applicant_name       VARCHAR(255) NOT NULL,
  applicant_identity   VARCHAR(64)  NULL,
  applicant_email      VARCHAR(255) NULL,
  applicant_phone      VARCHAR(32)  NULL,
  form_json            JSON NULL CHECK (form_json IS NULL OR JSON_VALID(form_json)),
  result_channel       ENUM('online','desk','postal') NOT NULL,
  postal_address_json  JSON NULL CHECK (postal_address_json IS NULL OR JSON_VALID(postal_address_json)),
  received_at          DATETIME(6)  NOT NULL COMMENT 'UTC',
  created_at           DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at           DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  manifest_sha256      CHAR(64)     NOT NULL COMMENT 'sha256 of the manifest bytes (idempotent ingest)',
  PRIMARY KEY (id),
  UNIQUE KEY uq_dossiers_code (code),
  UNIQUE KEY uq_dossiers_seq (agency_id, seq_date, seq),
  KEY ix_dossiers_procedure (procedure_id),
  KEY ix_dossiers_received (received_at),
  CONSTRAINT fk_dossiers_agency FOREIGN KEY (agency_id) REFERENCES agencies (id),
  CONSTRAINT fk_dossiers_procedure FOREIGN KEY (procedure_id) REFERENCES procedures (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS dossier_files (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  dossier_id      BIGINT UNSIGNED NOT NULL,
  position        SMALLINT UNSIGNED NOT NULL COMMENT 'order in the manifest, from 1',
  component_code  VARCHAR(32)  NOT NULL,
  original_name   VARCHAR(255) NOT NULL,
  size            BIGINT UNSIGNED NOT NULL,
  media_type      VARCHAR(127) NOT NULL,
  sha256          CHAR(64)     NOT NULL,
  storage_name    VARCHAR(255) NOT NULL COMMENT 'path under the store root: files/ab/cd/<sha256>',
  PRIMARY KEY (id),
  UNIQUE KEY uq_dossier_files_pos (dossier_id, position),
  KEY ix_dossier_files_sha (sha256),
  CONSTRAINT fk_dossier_files_dossier FOREIGN KEY (dossier_id) REFERENCES dossiers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS dossier_history (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  dossier_id  BIGINT UNSIGNED NOT NULL,
  status      TINYINT UNSIGNED NOT NULL,
  label       VARCHAR(255) NOT NULL,
  note        TEXT NULL,
  actor       VARCHAR(128) NOT NULL,
  at          DATETIME(6)  NOT NULL COMMENT 'UTC',
  PRIMARY KEY (id),
  KEY ix_dossier_history_dossier (dossier_id, at),
  CONSTRAINT fk_dossier_history_dossier FOREIGN KEY (dossier_id) REFERENCES dossiers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
