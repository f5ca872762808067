-- 0009: postal pickup of dossiers and postal delivery of results (issue 5 item 4;
-- DOMAIN X3, A6; docs/exchange-postal.md).
--
-- postal_orders: one row per order tthc gives the postal operator. The order is queued
-- in the outbox (outbox.kind 'postal_order', target 'postal') in the same transaction
-- that decides it; the operator's shipment number (SoHieuBuuGui) is recorded when it
-- accepts the order (wk_postal_on_sent). address_json is the snapshot of sender and
-- receiver the order was made with (later edits of the dossier do not change it).
CREATE TABLE IF NOT EXISTS postal_orders (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  dossier_id       BIGINT UNSIGNED NOT NULL,
  kind             ENUM('pickup','delivery') NOT NULL COMMENT 'LoaiDonHang 1 pickup, 2 delivery',
  outbox_id        BIGINT UNSIGNED NULL COMMENT 'the outbox message that carries the order',
  tracking_no      VARCHAR(32)  NULL COMMENT 'SoHieuBuuGui, from the operator''s reply',
  state            ENUM('created','accepted','picked_up','in_transit','delivered','failed_attempt',
                        'returned') NOT NULL DEFAULT 'created',
  last_status      VARCHAR(32)  NULL COMMENT 'last MaTrangThai',
  last_status_text VARCHAR(512) NULL COMMENT 'its NoiDung',
  last_status_at   DATETIME(6)  NULL COMMENT 'its ThoiDiem (UTC)',
  address_json     JSON NOT NULL COMMENT 'NguoiGui/NguoiNhan snapshot' CHECK (JSON_VALID(address_json)),
  cod_amount       BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'SoTienThuHo (VND)',
  created_at       DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at       DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_postal_orders_tracking (tracking_no),
  KEY ix_postal_orders_dossier (dossier_id, kind, id),
  KEY ix_postal_orders_outbox (outbox_id),
  CONSTRAINT fk_postal_orders_dossier FOREIGN KEY (dossier_id) REFERENCES dossiers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- postal_events: one row per tracking update applied. body_sha256 is the SHA-256 of the
-- message body as received: a body applied once is refused afterwards (409 REPLAYED_MESSAGE).
CREATE TABLE IF NOT EXISTS postal_events (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  order_id     BIGINT UNSIGNED NOT NULL,
  body_sha256  CHAR(64)     NOT NULL,
  status_code  VARCHAR(32)  NOT NULL COMMENT 'MaTrangThai',
  message      VARCHAR(512) NOT NULL COMMENT 'NoiDung',
  event_at     DATETIME(6)  NOT NULL COMMENT 'ThoiDiem (UTC)',
  received_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  history_id   BIGINT UNSIGNED NULL COMMENT 'the dossier_history entry it made',
  PRIMARY KEY (id),
  UNIQUE KEY uq_postal_events_body (body_sha256),
  KEY ix_postal_events_order (order_id, id),
  CONSTRAINT fk_postal_events_order FOREIGN KEY (order_id) REFERENCES postal_orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The one-stop desk as sender of results and receiver of picked-up dossiers
-- (per deployment; province/district codes in the operator's code list).
INSERT IGNORE INTO settings (name, value) VALUES
  ('postal_desk_address', 'Trung tâm Phục vụ hành chính công tỉnh'),
  ('postal_desk_province', '11'),
  ('postal_desk_district', '094'),
  ('postal_desk_phone', '02153825000'),
  ('postal_cod_amount', '0');
