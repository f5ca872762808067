-- 0005_holidays_2026_2027.sql - the 2026 and 2027 rows of 0002_holidays.sql checked
-- against the official announcements (DOMAIN T2a; docs/time-rules.md "Holidays").
-- 0002 is applied and checksummed: it is corrected here, never edited.
-- Idempotent: every statement can be re-run (upserts by the primary key `day`).
--
-- Rules used (Labour Code 2019 = Bộ luật Lao động 45/2019/QH14):
--   Art.112.1  1/1 (1 day), Tết Âm lịch (5), 10/3 âm lịch (1), 30/4 (1), 1/5 (1),
--              2/9 + the day before or after it (2);
--   Art.112.3  each year the Prime Minister fixes the exact Tết days and the day next to 2/9;
--   Art.111.3  a holiday on the weekly day off gives a day off on the next working day
--              ("nghỉ bù").
-- Besides, the government may swap a working day with a Saturday for civil servants
-- ("hoán đổi"): the weekday becomes a day off, the Saturday a make-up working day
-- ('makeup_workday').
-- Only days that change an ordinary Monday-Friday week are rows: weekdays off
-- ('holiday') and worked Saturdays ('makeup_workday').  Lunar dates were
-- computed for UTC+7 (Hồ Ngọc Đức's algorithm): Tết Bính Ngọ = Tue 17/2/2026
-- (29 tháng Chạp Ất Tỵ = Mon 16/2, that month had 29 days), Giỗ Tổ = Sun 26/4/2026;
-- Tết Đinh Mùi = Sat 6/2/2027 (tháng Chạp Bính Ngọ has 29 days: 29 Chạp =
-- Fri 5/2/2027, there is no "30 tháng Chạp"), Giỗ Tổ = Fri 16/4/2027.
--
-- Where 0002 differs (checked on 2026-11-28; the newest notice found dates from Feb 2026):
--   2026-01-02  missing: swapped day off (Tết Dương lịch 4 days, 1-4/1/2026)
--   2026-01-10  missing: the Saturday worked in its place
--   2026-02-16  name: 29 (not 30) tháng Chạp
--   2026-08-22  missing: the Saturday worked for 31/8
--   2026-08-31  missing: swapped day off (Quốc khánh 5 days, 29/8-2/9/2026)
--   2026-09-01  was a projection; now announced
--   2027-02-05  name: 29 (not 30) tháng Chạp
-- No 0002 row turned out to be a wrong day, so nothing is deleted.

INSERT INTO holidays (day, kind, name) VALUES
-- ---- 2026 -------------------------------------------------------------------------
-- Tết Dương lịch: Văn phòng Chính phủ, văn bản 12729/VPCP-KGVX of 25/12/2025 (Phó Thủ
-- tướng Phạm Thị Thanh Trà agrees with the Bộ Nội vụ plan): civil servants off Thu 1/1 to
-- Sun 4/1/2026; the working day Fri 2/1 swapped with Sat 10/1/2026.
('2026-01-01','holiday','Tết Dương lịch'),
('2026-01-02','holiday','Nghỉ hoán đổi Tết Dương lịch (làm bù thứ Bảy 10/01/2026; 12729/VPCP-KGVX)'),
('2026-01-10','makeup_workday','Làm bù cho ngày nghỉ 02/01/2026 (12729/VPCP-KGVX)'),
-- Tết Nguyên đán Bính Ngọ: Văn phòng Chính phủ notice of the Prime Minister's decision
-- (October 2025, on the Bộ Nội vụ proposal): off Sat 14/2 (27 tháng Chạp) to Sun 22/2/2026
-- (mùng 6), 9 days = the 5 statutory days Mon 16/2-Fri 20/2 + two weekends, no swap.
('2026-02-16','holiday','Tết Nguyên đán Bính Ngọ (29 tháng Chạp)'),
('2026-02-17','holiday','Tết Nguyên đán Bính Ngọ (mùng 1)'),
('2026-02-18','holiday','Tết Nguyên đán Bính Ngọ (mùng 2)'),
('2026-02-19','holiday','Tết Nguyên đán Bính Ngọ (mùng 3)'),
('2026-02-20','holiday','Tết Nguyên đán Bính Ngọ (mùng 4)'),
-- Giỗ Tổ Hùng Vương 10/3 âm lịch = Sun 26/4/2026 -> nghỉ bù Mon 27/4 (Art.111.3).
-- 30/4 (Thu) and 1/5 (Fri): no swap was announced for 2026.
('2026-04-27','holiday','Nghỉ bù Giỗ Tổ Hùng Vương (10/3 âm lịch rơi vào Chủ nhật 26/4/2026)'),
('2026-04-30','holiday','Ngày Chiến thắng 30/4'),
('2026-05-01','holiday','Ngày Quốc tế Lao động 1/5'),
-- Quốc khánh: same Prime Minister's decision as Tết 2026 (October 2025): off Sat 29/8 to
-- Wed 2/9/2026, 5 days = 2/9 + the adjacent Tue 1/9 + the weekend + Mon 31/8 swapped
-- with Sat 22/8/2026.
('2026-08-22','makeup_workday','Làm bù cho ngày nghỉ 31/8/2026 (hoán đổi dịp Quốc khánh)'),
('2026-08-31','holiday','Nghỉ hoán đổi dịp Quốc khánh (làm bù thứ Bảy 22/8/2026)'),
('2026-09-01','holiday','Quốc khánh (ngày liền kề)'),
('2026-09-02','holiday','Quốc khánh 2/9'),
-- ---- 2027 -------------------------------------------------------------------------
-- Nothing announced for 2027 was found (Tết and Quốc khánh are usually decided in
-- October-December of the year before).  1/1, 30/4 and 2/9 are fixed by Art.112.1 and
-- fall on weekdays; every other row is a PROJECTION ("dự kiến") by the statutory rule
-- and the usual pattern, to be checked against the notices and corrected by a new
-- migration.
('2027-01-01','holiday','Tết Dương lịch'),
-- dự kiến: 5 Tết days 29 Chạp-mùng 4 (Fri 5/2-Tue 9/2), mùng 1-2 on the weekend ->
-- nghỉ bù Wed 10/2 and Thu 11/2 (the government may choose other days or add a swap).
('2027-02-05','holiday','Tết Nguyên đán Đinh Mùi (29 tháng Chạp) - dự kiến'),
('2027-02-08','holiday','Tết Nguyên đán Đinh Mùi (mùng 3) - dự kiến'),
('2027-02-09','holiday','Tết Nguyên đán Đinh Mùi (mùng 4) - dự kiến'),
('2027-02-10','holiday','Nghỉ bù Tết (mùng 1 rơi vào thứ Bảy) - dự kiến'),
('2027-02-11','holiday','Nghỉ bù Tết (mùng 2 rơi vào Chủ nhật) - dự kiến'),
-- 10/3 âm lịch = Fri 16/4/2027 (computed; the day itself is statutory).
('2027-04-16','holiday','Giỗ Tổ Hùng Vương (10/3 âm lịch)'),
('2027-04-30','holiday','Ngày Chiến thắng 30/4'),
-- 1/5/2027 is a Saturday -> nghỉ bù Mon 3/5 (Art.111.3), unless a swap is announced.
('2027-05-03','holiday','Nghỉ bù Quốc tế Lao động (1/5 rơi vào thứ Bảy) - dự kiến'),
('2027-09-02','holiday','Quốc khánh 2/9'),
-- dự kiến: the adjacent day of Thu 2/9/2027 may be Wed 1/9 or Fri 3/9.
('2027-09-03','holiday','Quốc khánh (ngày liền kề) - dự kiến')
ON DUPLICATE KEY UPDATE kind = VALUES(kind), name = VALUES(name);

-- NOT a row: "Ngày Văn hóa Việt Nam" 24/11.  Nghị quyết 80-NQ/TW of the Politburo
-- (January 2026) chose 24/11 as a paid day off in principle, and the Government's
-- Nghị quyết 30/NQ-CP (February 2026) tasks an amendment of Art.112.1; no amended
-- Labour Code in force was found.  24/11/2026 (Tue) and 24/11/2027 (Wed) stay
-- working days until the amendment is in force; then a new migration adds
-- ('YYYY-11-24','holiday','Ngày Văn hóa Việt Nam') (and any nghỉ bù).
