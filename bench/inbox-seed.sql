-- bench/inbox-seed.sql - @n synthetic open dossiers of Sở Tư pháp (000.00.31.H41),
-- procedure 1.000001.000.00.00.H41, for bench/inbox (docs/performance.md "Inbox").
--
-- Set-based: one INSERT ... SELECT over MariaDB's sequence engine (seq_0_to_999999),
-- one for their step visits; a single transaction.  bench/inbox runs it only when
-- fewer than @n bench dossiers exist (marker: applicant_email); INSERT IGNORE keeps a
-- re-run from failing on codes that are already there.
--
--   SET @n = 100000;  SOURCE bench/inbox-seed.sql;      (at most 999,999)
--
-- Dossier number n (0 .. @n-1):
--   code      000.00.31.H41-YYMMDD-NNNN: 3,400 a day (rule D1 allows 9,999), on the
--             local days 2, 3, ... before today (today and yesterday are left to the
--             edge's counters); received that day between 07:30 and 14:07 local
--   stage     1 % reception (status 1, no process yet: the desk officer's queue);
--             80 % step 1 "Thẩm định hồ sơ" (handling_official; status 2, 4 for one in
--             ten: returned to it); 19 % step 2 "Phê duyệt" (agency_leader; status 4)
--   due_at    5 % overdue (up to 2.7 days), 10 % due within 20 h, 85 % in 3 to 17 days;
--             dossiers.warning set to the colour the warner would mark (red, yellow,
--             green), so the rebuild rarely has to correct it
--   interleaved: the stage and the colour come from two different multiplicative
--   hashes of n, so every day, page and queue holds all kinds.

SET @agency = (SELECT id FROM agencies WHERE code = '000.00.31.H41');
SET @proc = (SELECT id FROM procedures WHERE code = '1.000001.000.00.00.H41');
SET @process = (SELECT id FROM processes WHERE procedure_id = @proc AND status = 'active'
                ORDER BY version DESC LIMIT 1);
SET @now = UTC_TIMESTAMP(6);
SET @today = DATE(@now + INTERVAL 7 HOUR);              -- Asia/Ho_Chi_Minh
SET @per_day = 3400;
SET @marker = 'bench.inbox@example.invalid';

START TRANSACTION;

INSERT IGNORE INTO dossiers
  (code, agency_id, seq_date, seq, procedure_id, channel, status, applicant_type,
   applicant_name, applicant_identity, applicant_email, result_channel, received_at,
   manifest_sha256, process_id, stage, step_position, step_visit, current_agency_id,
   receipt_at, due_at, first_due_at, warning)
SELECT CONCAT('000.00.31.H41-', x.ymd, '-', LPAD(x.sq, 4, '0')),
       @agency, x.ymd, x.sq, @proc, 'online',
       CASE WHEN x.h < 10 THEN 1 WHEN x.h < 810 AND x.h % 10 <> 3 THEN 2 ELSE 4 END,
       'citizen',
       ELT(1 + x.n % 12, 'Nguyễn Văn An', 'Trần Thị Bình', 'Lê Văn Cường', 'Phạm Thị Dung',
           'Hoàng Văn Em', 'Huỳnh Thị Hoa', 'Phan Văn Giang', 'Vũ Thị Hạnh', 'Võ Văn Khánh',
           'Đặng Thị Lan', 'Bùi Văn Minh', 'Đỗ Thị Ngọc'),
       CONCAT('0010990', LPAD(x.n % 100000, 5, '0')), @marker, 'online', x.received_at,
       SHA2(CONCAT('tthc-bench-inbox:', x.n), 256),
       IF(x.h < 10, NULL, @process),
       IF(x.h < 10, 'reception', 'step'),
       CASE WHEN x.h < 10 THEN NULL WHEN x.h < 810 THEN 1 ELSE 2 END,
       CASE WHEN x.h < 10 THEN NULL WHEN x.h < 810 THEN 1 ELSE 2 END,
       @agency,
       IF(x.h < 10, NULL, x.received_at + INTERVAL 5 MINUTE),
       IF(x.h < 10, NULL, x.due_at),
       IF(x.h < 10, NULL, x.due_at),
       CASE WHEN x.h < 10 THEN NULL WHEN x.g < 50 THEN 'red' WHEN x.g < 150 THEN 'yellow'
            ELSE 'green' END
FROM (
  SELECT s.n, s.h, s.g, s.sq,
         DATE_FORMAT(@today - INTERVAL (2 + s.n DIV @per_day) DAY, '%y%m%d') AS ymd,
         TIMESTAMP(@today - INTERVAL (2 + s.n DIV @per_day) DAY, '00:30:00')
           + INTERVAL (s.sq * 7) SECOND AS received_at,           -- 07:30 local = 00:30 UTC
         CASE WHEN s.g < 50 THEN @now - INTERVAL (1 + s.g * 80) MINUTE
              WHEN s.g < 150 THEN @now + INTERVAL (30 + (s.g - 50) * 12) MINUTE
              ELSE @now + INTERVAL 3 DAY + INTERVAL ((s.g - 150) * 24) MINUTE END AS due_at
  FROM (SELECT seq AS n, (seq * 7919) % 1000 AS h, (seq * 104729 + 12345) % 1000 AS g,
               1 + seq % @per_day AS sq
        FROM seq_0_to_999999 WHERE seq < @n) s
) x;

-- the open visit of the current step (T7), and, for those at step 2, the closed
-- visit of step 1 (ended an hour ago at the latest); budgets of the demo process:
-- 1,440 + 960 working minutes
INSERT IGNORE INTO dossier_steps
  (dossier_id, visit, position, agency_id, role, started_at, budget_due_at, ended_at,
   used_minutes, end_action)
SELECT v.id, 1, 1, @agency, 'handling_official', v.receipt_at,
       IF(v.step_position = 1, v.due_at - INTERVAL 2 DAY, v.due_at - INTERVAL 3 DAY),
       IF(v.step_position = 1, NULL, v.forwarded_at),
       IF(v.step_position = 1, NULL, 1200),
       IF(v.step_position = 1, NULL, 'forward')
FROM (SELECT d.id, d.step_position, d.receipt_at, d.due_at,
             GREATEST(d.receipt_at + INTERVAL 1 HOUR,
                      LEAST(@now - INTERVAL 1 HOUR, d.due_at - INTERVAL 3 DAY)) AS forwarded_at
      FROM dossiers d WHERE d.applicant_email = @marker AND d.stage = 'step') v
UNION ALL
SELECT v.id, 2, 2, @agency, 'agency_leader', v.forwarded_at, v.due_at, NULL, NULL, NULL
FROM (SELECT d.id, d.due_at,
             GREATEST(d.receipt_at + INTERVAL 1 HOUR,
                      LEAST(@now - INTERVAL 1 HOUR, d.due_at - INTERVAL 3 DAY)) AS forwarded_at
      FROM dossiers d
      WHERE d.applicant_email = @marker AND d.stage = 'step' AND d.step_position = 2) v;

COMMIT;

SELECT COUNT(*) AS bench_dossiers,
       SUM(stage = 'reception') AS reception,
       SUM(step_position = 1) AS step1_handling_official,
       SUM(step_position = 2) AS step2_agency_leader,
       SUM(warning = 'red') AS red, SUM(warning = 'yellow') AS yellow,
       SUM(warning = 'green') AS green
FROM dossiers WHERE applicant_email = @marker;
