-- 0006: delivery of the outbox to partners (issue 5, docs/exchange.md "Outbox delivery").
-- One row per message; messages of one dossier and target go out in id order (the head of
-- (target, dossier_id) is the lowest id not yet sent); the body is frozen at the first attempt
-- so that a retry sends the same bytes under the same idempotency key.
ALTER TABLE outbox
  MODIFY COLUMN history_id BIGINT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS target ENUM('portal','postal') NOT NULL DEFAULT 'portal' AFTER kind,
  ADD COLUMN IF NOT EXISTS idem_key VARCHAR(128) NULL COMMENT 'Idempotency-Key: MaHoSo:id',
  ADD COLUMN IF NOT EXISTS body MEDIUMTEXT NULL COMMENT 'the XML as first sent (frozen)',
  ADD COLUMN IF NOT EXISTS lease_owner VARCHAR(200) NULL,
  ADD COLUMN IF NOT EXISTS lease_until DATETIME(6) NULL,
  ADD COLUMN IF NOT EXISTS last_http SMALLINT NULL,
  ADD COLUMN IF NOT EXISTS last_error VARCHAR(255) NULL,
  ADD COLUMN IF NOT EXISTS sent_at DATETIME(6) NULL,
  ADD COLUMN IF NOT EXISTS dead_at DATETIME(6) NULL,
  ADD COLUMN IF NOT EXISTS replays INT UNSIGNED NOT NULL DEFAULT 0;

ALTER TABLE outbox DROP INDEX IF EXISTS uq_outbox_history;
ALTER TABLE outbox ADD UNIQUE KEY IF NOT EXISTS uq_outbox_history_kind (history_id, kind);
ALTER TABLE outbox ADD KEY IF NOT EXISTS ix_outbox_head (target, dossier_id, state, id);
ALTER TABLE outbox ADD KEY IF NOT EXISTS ix_outbox_due (state, target, next_attempt_at);
