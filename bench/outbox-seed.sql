-- bench/outbox-seed.sql - @d synthetic dossiers of Sở Tư pháp (000.00.31.H41) and
-- @d × @m held outbox messages (kind 'history', target 'portal') for bench/outbox
-- (docs/performance.md "Outbox delivery (national portal)").
--
--   SET @d = 2000, @m = 5, @hold_s = 240;  SOURCE bench/outbox-seed.sql;
--
-- Set-based, as bench/inbox-seed.sql: INSERT ... SELECT over MariaDB's sequence
-- engine (seq_0_to_999999).
--
-- Dossiers (INSERT IGNORE: a second run, or a stack that has them, keeps them):
--   code      000.00.31.H41-YYMMDD-NNNN with NNNN = 5001 .. 9000 (4,000 a day, on the
--             local days 2, 3, ... before today), so they never collide with the
--             bench/inbox dossiers (NNNN 0001 .. 3400) nor with today's counters
--   state     returned (stage 'done', status 10): nothing open, so neither the warner
--             nor the officials' inbox works on them while the outbox is measured
--   marker    applicant_email = 'bench.outbox@example.invalid'
--
-- Messages: the TienTrinhXuLy payload of workers/src/workflow.c wk_outbox_add (the
-- fields the renderer uses, plus HanhDong/BuocXuLy/... that it ignores), history_id
-- NULL, in the order a real province writes them: message k of every dossier before
-- message k+1 of any (ids interleave across dossiers; each dossier's messages go out
-- in id order). They are *held*: next_attempt_at = now + @hold_s (less than
-- outbox_backoff_max_ms + 1 s, so the workers do not take it for a clock moved back);
-- bench/outbox releases them with one UPDATE (next_attempt_at = NULL). The last
-- SELECT prints the id range of the rows inserted here.

SET @agency = (SELECT id FROM agencies WHERE code = '000.00.31.H41');
SET @proc = (SELECT id FROM procedures WHERE code = '1.000001.000.00.00.H41');
SET @now = UTC_TIMESTAMP(6);
SET @today = DATE(@now + INTERVAL 7 HOUR);              -- Asia/Ho_Chi_Minh
SET @per_day = 4000;
SET @marker = 'bench.outbox@example.invalid';

INSERT IGNORE INTO dossiers
  (code, agency_id, seq_date, seq, procedure_id, channel, status, applicant_type,
   applicant_name, applicant_identity, applicant_email, result_channel, received_at,
   manifest_sha256, stage, current_agency_id, receipt_at, due_at, first_due_at,
   result_at, returned_at, outcome, result_kind)
SELECT CONCAT('000.00.31.H41-', x.ymd, '-', LPAD(x.sq, 4, '0')),
       @agency, x.ymd, x.sq, @proc, 'online', 10, 'citizen',
       ELT(1 + x.n % 6, 'Nguyễn Văn An', 'Trần Thị Bình', 'Lê Văn Cường', 'Phạm Thị Dung',
           'Hoàng Văn Em', 'Huỳnh Thị Hoa'),
       CONCAT('0010991', LPAD(x.n % 100000, 5, '0')), @marker, 'online', x.received_at,
       SHA2(CONCAT('tthc-bench-outbox:', x.n), 256),
       'done', @agency, x.received_at + INTERVAL 5 MINUTE, x.received_at + INTERVAL 3 DAY,
       x.received_at + INTERVAL 3 DAY, x.received_at + INTERVAL 1 DAY,
       x.received_at + INTERVAL 1 DAY + INTERVAL 2 HOUR, 'early', 'result'
FROM (
  SELECT s.n, s.sq,
         DATE_FORMAT(@today - INTERVAL (2 + s.n DIV @per_day) DAY, '%y%m%d') AS ymd,
         TIMESTAMP(@today - INTERVAL (2 + s.n DIV @per_day) DAY, '00:30:00')
           + INTERVAL ((s.sq - 5000) * 5) SECOND AS received_at   -- from 07:30 local
  FROM (SELECT seq AS n, 5001 + seq % @per_day AS sq FROM seq_0_to_999999 WHERE seq < @d) s
) x;

-- the @d bench dossiers, numbered 0 .. @d-1 in id order
DROP TEMPORARY TABLE IF EXISTS bench_outbox_d;
CREATE TEMPORARY TABLE bench_outbox_d (n INT UNSIGNED PRIMARY KEY, id BIGINT UNSIGNED,
                                       code VARCHAR(64), received_at DATETIME(6)) ENGINE=MEMORY;
INSERT INTO bench_outbox_d
SELECT ROW_NUMBER() OVER (ORDER BY id) - 1, id, code, received_at
FROM dossiers WHERE applicant_email = @marker ORDER BY id LIMIT 999999;
DELETE FROM bench_outbox_d WHERE n >= @d;

SET @first = (SELECT COALESCE(MAX(id), 0) FROM outbox);
SET @hold = @now + INTERVAL @hold_s SECOND;

START TRANSACTION;
INSERT INTO outbox (dossier_id, history_id, kind, target, payload, next_attempt_at)
SELECT d.id, NULL, 'history', 'portal',
       JSON_OBJECT(
         'MaHoSo', d.code,
         'TrangThai', ELT(1 + LEAST(k.k, 4), 1, 2, 4, 9, 10),
         'HanhDong', ELT(1 + LEAST(k.k, 4), 'submit', 'receive', 'forward', 'approve', 'return'),
         'BuocXuLy', IF(k.k BETWEEN 2 AND 3, k.k - 1, NULL),
         'TenBuocXuLy', IF(k.k BETWEEN 2 AND 3, ELT(k.k - 1, 'Thẩm định hồ sơ', 'Phê duyệt'), NULL),
         'NguoiXuLy', ELT(1 + (d.n + k.k) % 4, 'Nguyễn Thị Thu Hà', 'Trần Minh Quân',
                          'Lê Hoàng Phúc', 'Phạm Ngọc Lan'),
         'ChucDanh', ELT(1 + LEAST(k.k, 4), 'applicant', 'desk_officer', 'handling_official',
                         'agency_leader', 'desk_officer'),
         'PhongBanXuLy', 'Phòng Hành chính tư pháp',
         'DonViXuLy', 'Sở Tư pháp',
         'ThoiDiemXuLy', DATE_FORMAT(d.received_at + INTERVAL (7 * 60 + 10 * k.k) MINUTE, '%Y%m%d%H%i%s'),
         'NoiDungXuLy', CONCAT(ELT(1 + LEAST(k.k, 4), 'Nộp hồ sơ trực tuyến', 'Tiếp nhận hồ sơ',
                               'Chuyển xử lý', 'Phê duyệt kết quả', 'Trả kết quả'),
                               ': hồ sơ thử tải (bench/outbox), lượt ', k.k + 1),
         'NgayBatDau', DATE_FORMAT(d.received_at + INTERVAL 7 HOUR, '%Y%m%d%H%i%s'),
         'NgayKetThucTheoQuyDinh', DATE_FORMAT(d.received_at + INTERVAL 3 DAY + INTERVAL 7 HOUR,
                                               '%Y%m%d%H%i%s'),
         'NgayHenTra', DATE_FORMAT(d.received_at + INTERVAL 3 DAY + INTERVAL 7 HOUR, '%Y%m%d%H%i%s')),
       @hold
FROM (SELECT seq AS k FROM seq_0_to_999999 WHERE seq < @m) k
CROSS JOIN bench_outbox_d d
ORDER BY k.k, d.n;
COMMIT;

DROP TEMPORARY TABLE bench_outbox_d;

SELECT MIN(id) AS first_id, MAX(id) AS last_id, COUNT(*) AS messages,
       COUNT(DISTINCT dossier_id) AS dossiers
FROM outbox WHERE id > @first;
