-- demo.sql - demo catalogue for province H41 (idempotent: re-run at will).
-- Procedure 1.000001.000.00.00.H41 and 2.000002.000.00.00.H41 are used by the
-- integration tests and benchmarks: keep their components as they are.

INSERT INTO agencies (code, name, parent_id, level) VALUES
  ('000.00.00.H41', 'Ủy ban nhân dân tỉnh (H41)', NULL, 1)
ON DUPLICATE KEY UPDATE name = VALUES(name), level = VALUES(level);

SET @prov = (SELECT id FROM agencies WHERE code = '000.00.00.H41');

INSERT INTO agencies (code, name, parent_id, level) VALUES
  ('000.00.31.H41', 'Sở Tư pháp', @prov, 2),
  ('000.00.12.H41', 'Sở Kế hoạch và Đầu tư', @prov, 2),
  ('000.00.20.H41', 'Sở Tài nguyên và Môi trường', @prov, 2),
  ('000.00.36.H41', 'Ủy ban nhân dân huyện Nam Đàn', @prov, 2)
ON DUPLICATE KEY UPDATE name = VALUES(name), parent_id = VALUES(parent_id), level = VALUES(level);

INSERT INTO departments (agency_id, name)
SELECT a.id, d.name FROM agencies a JOIN (
  SELECT '000.00.31.H41' AS ac, 'Phòng Hành chính tư pháp' AS name
  UNION ALL SELECT '000.00.31.H41', 'Trung tâm Lý lịch tư pháp'
  UNION ALL SELECT '000.00.12.H41', 'Phòng Đăng ký kinh doanh'
  UNION ALL SELECT '000.00.20.H41', 'Văn phòng Đăng ký đất đai'
  UNION ALL SELECT '000.00.36.H41', 'Phòng Tư pháp'
  UNION ALL SELECT '000.00.36.H41', 'Phòng Tài nguyên và Môi trường'
) d ON d.ac = a.code
ON DUPLICATE KEY UPDATE name = VALUES(name);

INSERT INTO fields (code, name) VALUES
  ('HT',   'Hộ tịch'),
  ('DN',   'Thành lập và hoạt động doanh nghiệp'),
  ('DD',   'Đất đai'),
  ('LLTP', 'Lý lịch tư pháp'),
  ('CT',   'Chứng thực')
ON DUPLICATE KEY UPDATE name = VALUES(name);

-- procedures: code, name, field, agency, online_level, amount, unit, result channels
INSERT INTO procedures (code, name, field_id, agency_id, online_level, processing_amount,
                        processing_unit, result_channels, status)
SELECT p.code, p.name, f.id, a.id, p.lvl, p.amount, p.unit, p.ch, 'active'
FROM (
  SELECT '1.000001.000.00.00.H41' AS code, 'Cấp bản sao trích lục hộ tịch' AS name, 'HT' AS fc,
         '000.00.31.H41' AS ac, 'full' AS lvl, 5 AS amount, 'working_day' AS unit, 'online,desk,postal' AS ch
  UNION ALL SELECT '2.000002.000.00.00.H41', 'Đăng ký thành lập doanh nghiệp tư nhân', 'DN',
         '000.00.12.H41', 'full', 3, 'working_day', 'online,desk'
  UNION ALL SELECT '1.001193.000.00.00.H41', 'Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên', 'DN',
         '000.00.12.H41', 'full', 3, 'working_day', 'online,desk,postal'
  UNION ALL SELECT '2.001610.000.00.00.H41', 'Đăng ký thay đổi nội dung đăng ký doanh nghiệp', 'DN',
         '000.00.12.H41', 'full', 3, 'working_day', 'online,desk'
  UNION ALL SELECT '2.000488.000.00.00.H41', 'Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam', 'LLTP',
         '000.00.31.H41', 'full', 10, 'working_day', 'online,desk,postal'
  UNION ALL SELECT '1.000656.000.00.00.H41', 'Đăng ký kết hôn có yếu tố nước ngoài', 'HT',
         '000.00.36.H41', 'partial', 15, 'working_day', 'desk'
  UNION ALL SELECT '1.001022.000.00.00.H41', 'Đăng ký khai tử có yếu tố nước ngoài', 'HT',
         '000.00.36.H41', 'full', 3, 'working_day', 'online,desk,postal'
  UNION ALL SELECT '1.004227.000.00.00.H41', 'Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận quyền sử dụng đất lần đầu', 'DD',
         '000.00.36.H41', 'partial', 20, 'working_day', 'desk,postal'
  UNION ALL SELECT '1.003003.000.00.00.H41', 'Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất', 'DD',
         '000.00.20.H41', 'partial', 10, 'working_day', 'desk,postal'
  UNION ALL SELECT '2.000815.000.00.00.H41', 'Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền cấp', 'CT',
         '000.00.36.H41', 'partial', 4, 'working_hour', 'desk'
) p
JOIN fields f ON f.code = p.fc
JOIN agencies a ON a.code = p.ac
ON DUPLICATE KEY UPDATE name = VALUES(name), field_id = VALUES(field_id), agency_id = VALUES(agency_id),
  online_level = VALUES(online_level), processing_amount = VALUES(processing_amount),
  processing_unit = VALUES(processing_unit), result_channels = VALUES(result_channels),
  status = VALUES(status);

INSERT INTO procedure_fees (procedure_id, name, amount)
SELECT p.id, x.name, x.amount FROM procedures p JOIN (
  SELECT '1.000001.000.00.00.H41' AS pc, 'Phí cấp bản sao trích lục (mỗi bản)' AS name, 8000 AS amount
  UNION ALL SELECT '2.000002.000.00.00.H41', 'Lệ phí đăng ký doanh nghiệp', 50000
  UNION ALL SELECT '2.000002.000.00.00.H41', 'Phí công bố nội dung đăng ký doanh nghiệp', 100000
  UNION ALL SELECT '1.001193.000.00.00.H41', 'Lệ phí đăng ký doanh nghiệp', 50000
  UNION ALL SELECT '1.001193.000.00.00.H41', 'Phí công bố nội dung đăng ký doanh nghiệp', 100000
  UNION ALL SELECT '2.001610.000.00.00.H41', 'Lệ phí đăng ký doanh nghiệp', 50000
  UNION ALL SELECT '2.000488.000.00.00.H41', 'Phí cung cấp thông tin lý lịch tư pháp', 200000
  UNION ALL SELECT '1.000656.000.00.00.H41', 'Lệ phí đăng ký kết hôn có yếu tố nước ngoài', 1500000
  UNION ALL SELECT '1.004227.000.00.00.H41', 'Lệ phí cấp Giấy chứng nhận', 100000
  UNION ALL SELECT '1.003003.000.00.00.H41', 'Lệ phí chỉnh lý biến động', 28000
  UNION ALL SELECT '2.000815.000.00.00.H41', 'Phí chứng thực bản sao (mỗi trang)', 2000
) x ON x.pc = p.code
ON DUPLICATE KEY UPDATE amount = VALUES(amount);

-- components: media types from application/pdf, image/jpeg, image/png; sizes 1..10 MiB
INSERT INTO components (procedure_id, code, name, required, max_size, media_types, position)
SELECT p.id, c.code, c.name, c.req, c.max_size, c.mt, c.pos FROM procedures p JOIN (
  SELECT '1.000001.000.00.00.H41' AS pc, 'TK' AS code, 'Tờ khai cấp bản sao trích lục hộ tịch' AS name, 1 AS req,
         5242880 AS max_size, 'application/pdf,image/jpeg,image/png' AS mt, 1 AS pos
  UNION ALL SELECT '1.000001.000.00.00.H41', 'KHAC', 'Giấy tờ khác (nếu có)', 0, 1048576, 'application/pdf', 2
  UNION ALL SELECT '2.000002.000.00.00.H41', 'GT', 'Giấy đề nghị đăng ký doanh nghiệp', 1, 10485760, 'application/pdf', 1
  UNION ALL SELECT '1.001193.000.00.00.H41', 'GT', 'Giấy đề nghị đăng ký doanh nghiệp', 1, 10485760, 'application/pdf', 1
  UNION ALL SELECT '1.001193.000.00.00.H41', 'DL', 'Điều lệ công ty', 1, 5242880, 'application/pdf', 2
  UNION ALL SELECT '1.001193.000.00.00.H41', 'CMND', 'Bản sao giấy tờ pháp lý của cá nhân là chủ sở hữu', 1, 2097152, 'application/pdf,image/jpeg,image/png', 3
  UNION ALL SELECT '2.001610.000.00.00.H41', 'TB', 'Thông báo thay đổi nội dung đăng ký doanh nghiệp', 1, 5242880, 'application/pdf', 1
  UNION ALL SELECT '2.001610.000.00.00.H41', 'QD', 'Nghị quyết, quyết định về việc thay đổi', 1, 5242880, 'application/pdf', 2
  UNION ALL SELECT '2.001610.000.00.00.H41', 'KHAC', 'Giấy tờ khác (nếu có)', 0, 2097152, 'application/pdf,image/jpeg', 3
  UNION ALL SELECT '2.000488.000.00.00.H41', 'TK', 'Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp', 1, 5242880, 'application/pdf,image/jpeg,image/png', 1
  UNION ALL SELECT '2.000488.000.00.00.H41', 'CMND', 'Bản chụp giấy tờ tùy thân', 1, 2097152, 'application/pdf,image/jpeg,image/png', 2
  UNION ALL SELECT '2.000488.000.00.00.H41', 'CTRU', 'Giấy tờ chứng minh nơi cư trú', 0, 2097152, 'application/pdf,image/jpeg,image/png', 3
  UNION ALL SELECT '2.000488.000.00.00.H41', 'UQ', 'Văn bản ủy quyền (nếu có)', 0, 1048576, 'application/pdf', 4
  UNION ALL SELECT '1.000656.000.00.00.H41', 'TK', 'Tờ khai đăng ký kết hôn', 1, 5242880, 'application/pdf,image/jpeg,image/png', 1
  UNION ALL SELECT '1.000656.000.00.00.H41', 'GXN', 'Giấy xác nhận tình trạng hôn nhân', 1, 5242880, 'application/pdf,image/jpeg,image/png', 2
  UNION ALL SELECT '1.000656.000.00.00.H41', 'GKSK', 'Giấy xác nhận sức khỏe tâm thần', 1, 5242880, 'application/pdf,image/jpeg', 3
  UNION ALL SELECT '1.000656.000.00.00.H41', 'HC', 'Bản sao hộ chiếu', 1, 2097152, 'application/pdf,image/jpeg,image/png', 4
  UNION ALL SELECT '1.001022.000.00.00.H41', 'TK', 'Tờ khai đăng ký khai tử', 1, 5242880, 'application/pdf,image/jpeg,image/png', 1
  UNION ALL SELECT '1.001022.000.00.00.H41', 'GBT', 'Giấy báo tử hoặc giấy tờ thay giấy báo tử', 1, 5242880, 'application/pdf,image/jpeg,image/png', 2
  UNION ALL SELECT '1.004227.000.00.00.H41', 'DON', 'Đơn đăng ký, cấp Giấy chứng nhận (Mẫu 04a/ĐK)', 1, 10485760, 'application/pdf', 1
  UNION ALL SELECT '1.004227.000.00.00.H41', 'GIAYTO', 'Giấy tờ về quyền sử dụng đất', 1, 10485760, 'application/pdf,image/jpeg', 2
  UNION ALL SELECT '1.004227.000.00.00.H41', 'NVTC', 'Chứng từ thực hiện nghĩa vụ tài chính', 0, 5242880, 'application/pdf,image/jpeg,image/png', 3
  UNION ALL SELECT '1.003003.000.00.00.H41', 'DON', 'Đơn đăng ký biến động (Mẫu 09/ĐK)', 1, 5242880, 'application/pdf', 1
  UNION ALL SELECT '1.003003.000.00.00.H41', 'GCN', 'Bản gốc Giấy chứng nhận đã cấp', 1, 10485760, 'application/pdf,image/jpeg', 2
  UNION ALL SELECT '2.000815.000.00.00.H41', 'BC', 'Bản chính giấy tờ cần chứng thực', 1, 10485760, 'application/pdf,image/jpeg,image/png', 1
) c ON c.pc = p.code
ON DUPLICATE KEY UPDATE name = VALUES(name), required = VALUES(required), max_size = VALUES(max_size),
  media_types = VALUES(media_types), position = VALUES(position);

-- Approved internal processes (issue 4; docs/contracts-workflow.md "Demo processes").
-- Version 1 of every active procedure: two steps at its own agency, 60 % / 40 % of
-- the legal processing time (working minutes: a working day is 480).
INSERT INTO processes (procedure_id, version, status, note, created_by)
SELECT p.id, 1, 'active', 'Quy trình mẫu (demo)', 'seed' FROM procedures p
ON DUPLICATE KEY UPDATE note = VALUES(note);

SET @joint = '1.004227.000.00.00.H41';

INSERT INTO process_steps (process_id, position, name, agency_id, department_id, role, budget_minutes, actions)
SELECT pr.id, s.pos, s.name, NULL, NULL, s.role,
       FLOOR(IF(p.processing_unit = 'working_day', p.processing_amount * 480, p.processing_amount * 60)
             * IF(s.pos = 1, 0.6, 1) - IF(s.pos = 2, FLOOR(IF(p.processing_unit = 'working_day',
               p.processing_amount * 480, p.processing_amount * 60) * 0.6), 0)),
       'forward,return,supplement,handover,refuse,stop,apologise,withdraw'
FROM procedures p
JOIN processes pr ON pr.procedure_id = p.id AND pr.version = 1
JOIN (SELECT 1 AS pos, 'Thẩm định hồ sơ' AS name, 'handling_official' AS role
      UNION ALL SELECT 2, 'Phê duyệt', 'agency_leader') s
WHERE p.code <> @joint
ON DUPLICATE KEY UPDATE name = VALUES(name), role = VALUES(role), budget_minutes = VALUES(budget_minutes),
  actions = VALUES(actions);

-- The joint procedure: lead UBND huyện Nam Đàn, cooperating Sở Tài nguyên và Môi trường.
INSERT INTO process_steps (process_id, position, name, agency_id, department_id, role, budget_minutes, actions)
SELECT pr.id, s.pos, s.name, a.id, NULL, s.role, s.budget,
       'forward,return,supplement,handover,refuse,extend,stop,apologise,withdraw'
FROM procedures p
JOIN processes pr ON pr.procedure_id = p.id AND pr.version = 1
JOIN (SELECT 1 AS pos, 'Thẩm định hồ sơ' AS name, '000.00.36.H41' AS ac, 'handling_official' AS role, 2400 AS budget
      UNION ALL SELECT 2, 'Xác minh, đo đạc địa chính', '000.00.20.H41', 'handling_official', 4800
      UNION ALL SELECT 3, 'Phê duyệt, ký Giấy chứng nhận', '000.00.36.H41', 'agency_leader', 2400) s
JOIN agencies a ON a.code = s.ac
WHERE p.code = @joint
ON DUPLICATE KEY UPDATE name = VALUES(name), agency_id = VALUES(agency_id), role = VALUES(role),
  budget_minutes = VALUES(budget_minutes), actions = VALUES(actions);

-- A8 (issue 5): beneficiary accounts of online fee payment (docs/exchange-payment.md).
-- A local setting (the catalogue import never touches agency_accounts). Only the
-- procedure below is paid online in the demo: its online dossiers get status 6 at
-- reception until the platform's voucher; every other procedure's fees are
-- collected at the desk (no account applies to them). Tests: t/25-payment.t.
INSERT INTO agency_accounts (agency_id, procedure_key, account_no, account_name, bank_code, active)
SELECT p.agency_id, p.id, '3511.0.9052341', 'Sở Tư pháp tỉnh H41 - thu phí, lệ phí', '01701001', 1
FROM procedures p WHERE p.code = '2.000488.000.00.00.H41'
ON DUPLICATE KEY UPDATE account_no = VALUES(account_no), account_name = VALUES(account_name),
  bank_code = VALUES(bank_code), active = VALUES(active);
