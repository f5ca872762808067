-- 0003_identity.sql - identity and access (issue 3; docs/contracts-identity.md):
-- applicants (e-ID accounts), officials (staff accounts, roles, lockout, TOTP),
-- the hash-chained audit log, and the owner of each dossier.
-- Idempotent like 0001: every statement can be re-run.

CREATE TABLE IF NOT EXISTS applicants (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  eid_sub          VARCHAR(255) NOT NULL COMMENT 'stable subject of the national e-ID (id_token sub)',
  identity_number  VARCHAR(32)  NOT NULL COMMENT '12-digit citizen id, or 10/13-digit tax code',
  name             VARCHAR(255) NOT NULL,
  type             ENUM('citizen','organisation') NOT NULL,
  email            VARCHAR(255) NULL,
  phone            VARCHAR(32)  NULL,
  created_at       DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  last_signin_at   DATETIME(6)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_applicants_sub (eid_sub),
  KEY ix_applicants_identity (identity_number)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- roles: the SET order is the bit order of TTHC_ROLE_* (common/tthc_scope.h),
-- so roles+0 is the role mask.
CREATE TABLE IF NOT EXISTS officials (
  id               INT UNSIGNED NOT NULL AUTO_INCREMENT,
  username         VARCHAR(64)  NOT NULL COMMENT '^[a-z0-9._-]{3,64}$',
  name             VARCHAR(255) NOT NULL,
  password_hash    VARCHAR(255) NOT NULL COMMENT 'argon2id, crypto_pwhash_str',
  roles            SET('desk_officer','handling_official','department_head','agency_leader',
                       'agency_admin','monitor','sysadmin') NOT NULL DEFAULT '',
  agency_id        INT UNSIGNED NULL COMMENT 'NULL only for monitor/sysadmin accounts',
  department_id    INT UNSIGNED NULL,
  locked           TINYINT(1)   NOT NULL DEFAULT 0 COMMENT 'administrative lock',
  failed_count     INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'consecutive failed sign-ins',
  locked_until     DATETIME(6)  NULL COMMENT 'lockout after repeated failures (UTC)',
  totp_secret      VARCHAR(64)  NULL COMMENT 'RFC 6238 secret, base32; NULL = TOTP off',
  totp_last_step   BIGINT       NULL COMMENT 'last accepted time step (no replay)',
  last_signin_at   DATETIME(6)  NULL,
  created_at       DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at       DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_officials_username (username),
  KEY ix_officials_agency (agency_id),
  CONSTRAINT fk_officials_agency FOREIGN KEY (agency_id) REFERENCES agencies (id),
  CONSTRAINT fk_officials_department FOREIGN KEY (department_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Append-only, hash-chained (DOMAIN O2).  id is assigned by the writer as
-- audit_head.last_id + 1 under SELECT ... FOR UPDATE of audit_head, so ids
-- are dense and in chain order.  hash = sha256 hex of prev_hash "\n" id "\n"
-- at "\n" actor_kind "\n" actor_id "\n" action "\n" object "\n" canonical
-- detail (workers/src/audit.c).
CREATE TABLE IF NOT EXISTS audit_log (
  id          BIGINT UNSIGNED NOT NULL,
  event_id    VARCHAR(96)  NULL COMMENT 'idempotency key (job id, rpc request id, client event id)',
  at          DATETIME(6)  NOT NULL COMMENT 'UTC',
  actor_kind  ENUM('applicant','staff','system') NOT NULL,
  actor_id    BIGINT UNSIGNED NULL,
  actor_name  VARCHAR(255) NULL,
  ip          VARCHAR(64)  NULL,
  action      VARCHAR(64)  NOT NULL,
  object      VARCHAR(255) NOT NULL DEFAULT '',
  detail      JSON NOT NULL CHECK (JSON_VALID(detail)),
  prev_hash   CHAR(64)     NOT NULL,
  hash        CHAR(64)     NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_audit_event (event_id),
  KEY ix_audit_at (at),
  KEY ix_audit_actor (actor_kind, actor_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS audit_head (
  id         TINYINT UNSIGNED NOT NULL,
  last_id    BIGINT UNSIGNED NOT NULL,
  last_hash  CHAR(64) NOT NULL,
  PRIMARY KEY (id),
  CHECK (id = 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT IGNORE INTO audit_head (id, last_id, last_hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- the signed-in applicant who sent the dossier (NULL: dossiers ingested
-- before issue 3, journal entries without "applicant_id")
ALTER TABLE dossiers ADD COLUMN IF NOT EXISTS applicant_id BIGINT UNSIGNED NULL AFTER procedure_id;
ALTER TABLE dossiers ADD INDEX IF NOT EXISTS ix_dossiers_applicant (applicant_id, received_at);
ALTER TABLE dossiers ADD CONSTRAINT fk_dossiers_applicant FOREIGN KEY IF NOT EXISTS (applicant_id)
  REFERENCES applicants (id);
