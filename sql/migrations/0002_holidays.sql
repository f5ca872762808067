-- 0002_holidays.sql - official calendar 2025-2027 (T2a, Labour Code 2019 Art.112).
-- Only weekdays that are days off ('holiday') and weekend days that are worked
-- ('makeup_workday') are listed; ordinary Saturdays/Sundays are not.
-- Statutory days: 1/1 (1), Tết Nguyên đán (5), Giỗ Tổ Hùng Vương 10/3 lunar (1),
-- 30/4 (1), 1/5 (1), 2/9 + one adjacent day (2).  A holiday on a weekend gives a
-- substitute weekday.  The government announces the exact days, swaps and
-- make-up Saturdays each year: a later year is corrected by a NEW migration
-- (never by editing this file: applied migrations are checksummed).
-- Rows marked PROJECTION were not announced when this file was written; they
-- follow the statutory rule and the usual pattern and must be checked against
-- the official notice for that year.

INSERT INTO holidays (day, kind, name) VALUES
-- 2025 (announced: Thông báo of the Ministry of Labour, Nov 2024; 30/4 swap
-- approved by the Prime Minister in 2025)
('2025-01-01','holiday','Tết Dương lịch'),
('2025-01-27','holiday','Tết Nguyên đán Ất Tỵ (28 tháng Chạp)'),
('2025-01-28','holiday','Tết Nguyên đán Ất Tỵ (29 tháng Chạp)'),
('2025-01-29','holiday','Tết Nguyên đán Ất Tỵ (mùng 1)'),
('2025-01-30','holiday','Tết Nguyên đán Ất Tỵ (mùng 2)'),
('2025-01-31','holiday','Tết Nguyên đán Ất Tỵ (mùng 3)'),
('2025-04-07','holiday','Giỗ Tổ Hùng Vương (10/3 âm lịch)'),
('2025-04-26','makeup_workday','Làm bù cho ngày nghỉ 02/5/2025 (hoán đổi)'),
('2025-04-30','holiday','Ngày Chiến thắng 30/4'),
('2025-05-01','holiday','Ngày Quốc tế Lao động 1/5'),
('2025-05-02','holiday','Nghỉ hoán đổi (làm bù thứ Bảy 26/4/2025)'),
('2025-09-01','holiday','Quốc khánh (ngày liền kề)'),
('2025-09-02','holiday','Quốc khánh 2/9'),
-- 2026: Tết, Giỗ Tổ (Sunday 26/4 -> substitute Monday 27/4), 30/4, 1/5 follow
-- the announced plan for 2026; any Tết Dương lịch swap must be checked.
('2026-01-01','holiday','Tết Dương lịch'),
('2026-02-16','holiday','Tết Nguyên đán Bính Ngọ (30 tháng Chạp)'),
('2026-02-17','holiday','Tết Nguyên đán Bính Ngọ (mùng 1)'),
('2026-02-18','holiday','Tết Nguyên đán Bính Ngọ (mùng 2)'),
('2026-02-19','holiday','Tết Nguyên đán Bính Ngọ (mùng 3)'),
('2026-02-20','holiday','Tết Nguyên đán Bính Ngọ (mùng 4)'),
('2026-04-27','holiday','Nghỉ bù Giỗ Tổ Hùng Vương (10/3 âm lịch rơi vào Chủ nhật 26/4)'),
('2026-04-30','holiday','Ngày Chiến thắng 30/4'),
('2026-05-01','holiday','Ngày Quốc tế Lao động 1/5'),
-- PROJECTION: adjacent day of 2/9/2026 (a Wednesday) not yet announced
('2026-09-01','holiday','Quốc khánh (ngày liền kề) - dự kiến'),
('2026-09-02','holiday','Quốc khánh 2/9'),
-- 2027: PROJECTION for every row except the fixed solar dates 1/1, 30/4, 2/9.
('2027-01-01','holiday','Tết Dương lịch'),
('2027-02-05','holiday','Tết Nguyên đán Đinh Mùi (30 tháng Chạp) - dự kiến'),
('2027-02-08','holiday','Tết Nguyên đán Đinh Mùi (mùng 3) - dự kiến'),
('2027-02-09','holiday','Tết Nguyên đán Đinh Mùi (mùng 4) - dự kiến'),
('2027-02-10','holiday','Nghỉ bù Tết (mùng 1 rơi vào thứ Bảy) - dự kiến'),
('2027-02-11','holiday','Nghỉ bù Tết (mùng 2 rơi vào Chủ nhật) - dự kiến'),
('2027-04-16','holiday','Giỗ Tổ Hùng Vương (10/3 âm lịch) - dự kiến'),
('2027-04-30','holiday','Ngày Chiến thắng 30/4'),
('2027-05-03','holiday','Nghỉ bù Quốc tế Lao động (1/5 rơi vào thứ Bảy) - dự kiến'),
('2027-09-02','holiday','Quốc khánh 2/9'),
('2027-09-03','holiday','Quốc khánh (ngày liền kề) - dự kiến')
ON DUPLICATE KEY UPDATE kind = VALUES(kind), name = VALUES(name);
