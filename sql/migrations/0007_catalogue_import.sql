-- 0007: catalogue import from the national procedure database (issue 5, DOMAIN X2;
-- docs/exchange-catalogue.md).  Idempotent like the others: every statement can be
-- re-run.  All instants are UTC.
--
-- The national codes are the existing keys: agencies.code (MaCoQuan), fields.code
-- (MaLinhVuc), procedures.code (MaTTHC), components (procedure_id, code = MaThanhPhanHoSo).
-- A procedure is never deleted: an import retires it (status 'retired', already in 0001).

ALTER TABLE procedures
  ADD COLUMN IF NOT EXISTS retired_at  DATETIME(6) NULL COMMENT 'when an import retired it (status retired)',
  ADD COLUMN IF NOT EXISTS imported_at DATETIME(6) NULL COMMENT 'last catalogue import that created or changed it';

-- A component the export no longer lists but that dossiers reference is kept, inactive
-- (slips and views still name it); one nobody references is deleted.  max_size and
-- media_types are local upload rules: an import sets them only on new components.
ALTER TABLE components
  ADD COLUMN IF NOT EXISTS active    TINYINT(1) NOT NULL DEFAULT 1 COMMENT '0: dropped by the national catalogue, kept for dossiers',
  ADD COLUMN IF NOT EXISTS originals SMALLINT UNSIGNED NULL COMMENT 'SoBanChinh',
  ADD COLUMN IF NOT EXISTS copies    SMALLINT UNSIGNED NULL COMMENT 'SoBanSao';

-- Form fields of a procedure (TruongDuLieu of the export).
CREATE TABLE IF NOT EXISTS procedure_form_fields (
  id            INT UNSIGNED NOT NULL AUTO_INCREMENT,
  procedure_id  INT UNSIGNED NOT NULL,
  code          VARCHAR(32)  NOT NULL COMMENT 'MaTruong',
  name          VARCHAR(255) NOT NULL,
  kind          ENUM('text','number','date','select') NOT NULL DEFAULT 'text',
  required      TINYINT(1)   NOT NULL DEFAULT 0,
  position      SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  UNIQUE KEY uq_procedure_form_fields_code (procedure_id, code),
  CONSTRAINT fk_procedure_form_fields_procedure FOREIGN KEY (procedure_id) REFERENCES procedures (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per import that was applied (not for refused files, dry runs, or pulls
-- answered 304).  sha256 of the export is also the ETag of the portal's GET
-- /dvc/v1/thutuc: the last row's sha256 goes out as If-None-Match.
CREATE TABLE IF NOT EXISTS catalogue_imports (
  id                    BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  at                    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  source                ENUM('file','pull') NOT NULL,
  sha256                CHAR(64)     NOT NULL COMMENT 'of the export bytes',
  size                  INT UNSIGNED NOT NULL,
  actor                 VARCHAR(128) NOT NULL,
  agencies_added        INT UNSIGNED NOT NULL DEFAULT 0,
  agencies_updated      INT UNSIGNED NOT NULL DEFAULT 0,
  agencies_unchanged    INT UNSIGNED NOT NULL DEFAULT 0,
  fields_added          INT UNSIGNED NOT NULL DEFAULT 0,
  fields_updated        INT UNSIGNED NOT NULL DEFAULT 0,
  fields_unchanged      INT UNSIGNED NOT NULL DEFAULT 0,
  procedures_added      INT UNSIGNED NOT NULL DEFAULT 0,
  procedures_updated    INT UNSIGNED NOT NULL DEFAULT 0,
  procedures_unchanged  INT UNSIGNED NOT NULL DEFAULT 0,
  procedures_retired    INT UNSIGNED NOT NULL DEFAULT 0,
  procedures_skipped    INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'new in the export but already retired (TrangThai 0)',
  changes               INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'added + updated + retired',
  PRIMARY KEY (id),
  KEY ix_catalogue_imports_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
