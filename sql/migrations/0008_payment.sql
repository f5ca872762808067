-- 0008: online payment of fees (issue 5, DOMAIN A8; docs/exchange-payment.md).
-- Idempotent (IF NOT EXISTS): an interrupted run can be applied again.

-- The beneficiary account fees are paid to (000 Art.9.4, 001 Art.20). A LOCAL
-- setting: the catalogue import never reads nor writes this table.
-- procedure_key 0 = every procedure of the agency, else procedures.id (an
-- account for that one procedure, which wins over the agency's default).
-- A procedure with fees is paid online (status 6 after reception) only when an
-- active account applies to it; without one the fees are collected at the desk.
CREATE TABLE IF NOT EXISTS agency_accounts (
  id             INT UNSIGNED NOT NULL AUTO_INCREMENT,
  agency_id      INT UNSIGNED NOT NULL,
  procedure_key  INT UNSIGNED NOT NULL DEFAULT 0 COMMENT '0: all procedures of the agency; else procedures.id',
  account_no     VARCHAR(32)  NOT NULL COMMENT 'SoTaiKhoan',
  account_name   VARCHAR(255) NOT NULL COMMENT 'TenTaiKhoan',
  bank_code      VARCHAR(32)  NOT NULL COMMENT 'MaNganHang',
  active         TINYINT(1)   NOT NULL DEFAULT 1,
  created_at     DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at     DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_agency_accounts_scope (agency_id, procedure_key),
  CONSTRAINT fk_agency_accounts_agency FOREIGN KEY (agency_id) REFERENCES agencies (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- What a dossier owes, frozen when the desk accepts it (the catalogue may change
-- afterwards): total and fee lines [{"name","amount"}]; NULL = owes nothing online.
ALTER TABLE dossiers
  ADD COLUMN IF NOT EXISTS fee_amount BIGINT UNSIGNED NULL COMMENT 'A8: VND owed online, frozen at reception',
  ADD COLUMN IF NOT EXISTS fee_lines  JSON NULL CHECK (fee_lines IS NULL OR JSON_VALID(fee_lines)),
  ADD COLUMN IF NOT EXISTS fee_account JSON NULL
    COMMENT 'the beneficiary account at reception {agency,account_no,account_name,bank_code}'
    CHECK (fee_account IS NULL OR JSON_VALID(fee_account)),
  ADD COLUMN IF NOT EXISTS paid_at DATETIME(6) NULL COMMENT 'A8: when the voucher confirmed the payment (UTC)';

-- One payment request per attempt (YeuCauThanhToan), and what the platform said
-- about it (KetQuaYeuCau, then the signed voucher BienLaiThanhToan).
--   state: new (created, the platform has not answered yet) -> open (the platform
--   gave a payment link) -> paid | failed | cancelled (settled: a second voucher is a
--   replay). A request that is new or open is reused by the next "pay" click.
CREATE TABLE IF NOT EXISTS payment_requests (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  transaction      VARCHAR(32)  NOT NULL COMMENT 'MaGiaoDich: TT<dossier id>N<seq>, our idempotency and replay key',
  dossier_id       BIGINT UNSIGNED NOT NULL,
  seq              INT UNSIGNED NOT NULL,
  amount           BIGINT UNSIGNED NOT NULL COMMENT 'TongTien (VND)',
  fee_lines        JSON NOT NULL CHECK (JSON_VALID(fee_lines)),
  state            ENUM('new','open','paid','failed','cancelled') NOT NULL DEFAULT 'new',
  request_xml      MEDIUMTEXT NOT NULL COMMENT 'the YeuCauThanhToan as first sent (frozen: retries send the same bytes)',
  platform_tx      VARCHAR(32)  NULL COMMENT 'MaGiaoDichNenTang',
  payment_url      VARCHAR(2000) NULL COMMENT 'DuongDanThanhToan',
  last_error       VARCHAR(255) NULL,
  created_at       DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  expires_at       DATETIME(6)  NOT NULL COMMENT 'ThoiHanThanhToan (UTC)',
  opened_at        DATETIME(6)  NULL,
  settled_at       DATETIME(6)  NULL,
  -- the voucher and its e-receipt data (001 Art.20.2; 003 Art.9.2: "chứng từ đã nộp phí, lệ phí điện tử")
  voucher_status   TINYINT UNSIGNED NULL COMMENT 'TrangThaiThanhToan 1 paid, 2 failed, 3 cancelled',
  voucher_platform_tx VARCHAR(32) NULL,
  voucher_amount   BIGINT UNSIGNED NULL,
  voucher_paid_at  DATETIME(6)  NULL COMMENT 'ThoiDiemThanhToan (UTC)',
  payer            VARCHAR(255) NULL COMMENT 'NguoiNop (personal data: never logged)',
  receipt_series   VARCHAR(32)  NULL COMMENT 'KyHieuBienLai',
  receipt_no       VARCHAR(32)  NULL COMMENT 'SoBienLai',
  receipt_lookup   VARCHAR(32)  NULL COMMENT 'MaTraCuuBienLai',
  receipt_url      VARCHAR(2000) NULL COMMENT 'DuongDanBienLai',
  voucher_sha256   CHAR(64)     NULL COMMENT 'sha256 of the voucher body as received',
  voucher_xml      MEDIUMTEXT   NULL COMMENT 'the signed voucher as received (evidence)',
  PRIMARY KEY (id),
  UNIQUE KEY uq_payment_requests_tx (transaction),
  UNIQUE KEY uq_payment_requests_seq (dossier_id, seq),
  UNIQUE KEY uq_payment_requests_voucher (voucher_sha256),
  KEY ix_payment_requests_dossier (dossier_id, state),
  CONSTRAINT fk_payment_requests_dossier FOREIGN KEY (dossier_id) REFERENCES dossiers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
