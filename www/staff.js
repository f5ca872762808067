/* The officials' page (Cổng một cửa — Cán bộ): a thin client of /api/v1
 * (docs/api.md, docs/contracts-workflow.md), in the style of portal.js.
 *
 * Safety rules kept throughout: data from the API reaches the page only
 * through textContent / createElement (never innerHTML); no inline event
 * handlers (CSP script-src 'self'); the CSRF token lives in memory only
 * (nothing in localStorage / sessionStorage); the inbox is not refreshed on
 * a timer, so an idle session still ends after its idle timeout. */
'use strict';

(function () {

const $ = (sel, root) => (root || document).querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/* ------------------------------------------------------------ vocabulary */

const STATUS = {
  1: 'Mới đăng ký', 2: 'Được tiếp nhận', 3: 'Không được tiếp nhận', 4: 'Đang xử lý',
  5: 'Yêu cầu bổ sung giấy tờ', 6: 'Yêu cầu thực hiện nghĩa vụ tài chính',
  7: 'Công dân yêu cầu rút hồ sơ', 8: 'Dừng xử lý', 9: 'Đã xử lý xong', 10: 'Đã trả kết quả',
};
const STAGES = {
  reception: 'Chờ tiếp nhận', step: 'Đang xử lý', supplement: 'Chờ bổ sung hồ sơ (tạm dừng tính thời gian)',
  result: 'Chờ xác nhận kết quả (Bộ phận Một cửa)', done: 'Đã có kết quả, chờ trả', closed: 'Đã kết thúc',
};
const ROLES = {
  desk_officer: 'Cán bộ một cửa', handling_official: 'Chuyên viên xử lý', department_head: 'Lãnh đạo phòng',
  agency_leader: 'Lãnh đạo cơ quan', agency_admin: 'Quản trị cơ quan', monitor: 'Giám sát', sysadmin: 'Quản trị hệ thống',
};
const HANDLING_ROLES = ['desk_officer', 'handling_official', 'department_head', 'agency_leader'];
const OUTCOMES = { early: 'Trước hạn', on_time: 'Đúng hạn', late: 'Quá hạn' };
const RESULT_KINDS = { result: 'Kết quả giải quyết', refusal: 'Trả hồ sơ không giải quyết' };
const RESULT_CHANNELS = { online: 'Trực tuyến', desk: 'Tại Bộ phận Một cửa', postal: 'Qua dịch vụ bưu chính công ích' };
const INTAKE_CHANNELS = { counter: 'Trực tiếp tại Bộ phận Một cửa', postal: 'Qua dịch vụ bưu chính công ích' };
const UNITS = { working_day: 'ngày làm việc', working_hour: 'giờ làm việc' };
const PAUSE_REASONS = { supplement: 'Yêu cầu bổ sung hồ sơ' };
const FILE_KINDS = {
  output: 'Văn bản xử lý', result: 'Kết quả giải quyết', refusal: 'Văn bản trả hồ sơ không giải quyết',
  supplement_request: 'Văn bản yêu cầu bổ sung', extension: 'Văn bản gia hạn', apology: 'Văn bản xin lỗi, hẹn lại',
  receipt: 'Phiếu tiếp nhận', digitised: 'Bản số hóa', supplement: 'Hồ sơ bổ sung',
};
const COLOURS = {
  green: ['badge-green', 'Trong hạn'],
  yellow: ['badge-yellow', 'Sắp đến hạn (còn dưới 1 ngày làm việc)'],
  red: ['badge-red', 'Quá hạn'],
};
const STEP_STATES = {
  ok: ['badge-green', 'Trong hạn bước'],
  due_soon: ['badge-yellow', 'Sắp hết hạn bước'],
  overdue: ['badge-red', 'Quá hạn bước'],
};
/* messages of common/tthc_errors.c, for batch results that carry only a code */
const ERRORS = {
  ILLEGAL_TRANSITION: 'Không thể thực hiện thao tác này ở bước xử lý hiện tại của hồ sơ.',
  NOT_STEP_HOLDER: 'Bạn không phải là người được giao xử lý bước hiện tại của hồ sơ này.',
  SUPPLEMENT_AFTER_DEADLINE: 'Hồ sơ đã quá hạn giải quyết nên không thể yêu cầu bổ sung. Vui lòng thực hiện xin lỗi và hẹn lại ngày trả kết quả.',
  FILE_REQUIRED: 'Thao tác này cần có tệp đính kèm. Vui lòng tải tệp lên rồi thực hiện lại.',
  FILE_NOT_UPLOADED: 'Không tìm thấy tệp đính kèm đã tải lên hoặc tệp đã hết hạn. Vui lòng tải tệp lên lại.',
  NOTE_REQUIRED: 'Vui lòng nhập ý kiến xử lý cho thao tác này.',
  NO_PROCESS: 'Thủ tục hành chính này chưa có quy trình xử lý đang áp dụng. Vui lòng liên hệ quản trị viên của cơ quan.',
  TOO_MANY_DOSSIERS: 'Mỗi lần chỉ được xử lý tối đa 100 hồ sơ. Vui lòng chọn ít hồ sơ hơn.',
  STALE_DOSSIER: 'Hồ sơ vừa được người khác cập nhật. Vui lòng tải lại hồ sơ và thử lại.',
  DOSSIER_NOT_FOUND: 'Không tìm thấy hồ sơ với mã đã nhập.',
  INVALID_DOSSIER_CODE: 'Mã hồ sơ không đúng định dạng. Vui lòng kiểm tra lại mã in trên phiếu tiếp nhận.',
  FORBIDDEN: 'Tài khoản của bạn không có quyền thực hiện thao tác này.',
  INVALID_REQUEST: 'Thông tin gửi lên chưa đầy đủ hoặc không hợp lệ. Vui lòng kiểm tra lại.',
  SERVICE_UNAVAILABLE: 'Hệ thống đang tạm thời gián đoạn. Vui lòng thử lại sau.',
  INTERNAL_ERROR: 'Đã xảy ra lỗi trong hệ thống. Vui lòng thử lại sau.',
};
const FIELDS = {
  note: 'ý kiến xử lý', files: 'tệp đính kèm', days: 'số ngày', to_step: 'bước trả về',
  to_official: 'cán bộ nhận', new_due: 'ngày hẹn mới', action: 'thao tác', codes: 'danh sách hồ sơ',
  procedure: 'thủ tục', channel: 'kênh tiếp nhận', result_channel: 'hình thức nhận kết quả',
  'applicant.type': 'loại người nộp', 'applicant.name': 'tên người nộp',
  'applicant.identity_number': 'số định danh', 'applicant.email': 'thư điện tử', 'applicant.phone': 'số điện thoại',
  username: 'tên đăng nhập', password: 'mật khẩu', totp: 'mã xác thực',
};

/* which file an action attaches (kind), whether the note / file is required */
const ACTS = {
  accept: { label: 'Tiếp nhận hồ sơ', note: false, kind: 'digitised', file: 'optional',
    help: 'Tiếp nhận hồ sơ: xác định thời điểm tiếp nhận, ngày hẹn trả kết quả và in Giấy tiếp nhận.' },
  refuse_reception: { label: 'Từ chối tiếp nhận', note: true, kind: 'output', file: 'optional', danger: true,
    help: 'Ghi rõ lý do không tiếp nhận hồ sơ; hồ sơ sẽ kết thúc.' },
  forward: { label: 'Chuyển xử lý', note: true, kind: 'output', file: 'optional',
    help: 'Kết thúc bước hiện tại và chuyển hồ sơ sang bước tiếp theo (sau bước cuối: về Bộ phận Một cửa để trả kết quả).' },
  return: { label: 'Trả lại bước trước', note: true, kind: 'output', file: 'optional', toStep: true,
    help: 'Trả hồ sơ về một bước trước; thời gian tiếp tục tính cho bước được trả về.' },
  supplement: { label: 'Yêu cầu bổ sung hồ sơ', note: true, kind: 'supplement_request', file: 'optional',
    help: 'Tạm dừng tính thời gian chờ người nộp bổ sung. Chỉ thực hiện được trước ngày hẹn trả kết quả.' },
  extend: { label: 'Gia hạn xử lý (liên thông)', note: true, kind: 'extension', file: 'required', days: true,
    help: 'Gia hạn thời gian xử lý của cơ quan mình (1–60 ngày làm việc); thời gian gia hạn được tính là trễ hạn của cơ quan.' },
  handover: { label: 'Chuyển cán bộ xử lý', note: true, kind: 'output', file: 'optional', toOfficial: true,
    help: 'Giao hồ sơ cho cán bộ khác cùng phòng, có vai trò của bước hiện tại.' },
  refuse: { label: 'Trả hồ sơ không giải quyết', note: true, kind: 'refusal', file: 'required', danger: true,
    help: 'Cần đính kèm văn bản trả hồ sơ không giải quyết, nêu rõ lý do.' },
  apologise: { label: 'Xin lỗi và hẹn lại ngày trả', note: true, kind: 'apology', file: 'required', days: true, newDue: true,
    help: 'Cần văn bản xin lỗi; nhập số ngày làm việc lùi hẹn hoặc ngày hẹn trả mới. Hồ sơ sẽ được tính là trễ hạn.' },
  confirm_result: { label: 'Xác nhận đã có kết quả', note: false, kind: 'result', file: 'optional',
    help: 'Cần có tệp kết quả: đính kèm tại đây nếu chưa đính kèm trước đó.' },
  return_result: { label: 'Đã trả kết quả', note: false, kind: 'output', file: 'optional',
    help: 'Xác nhận đã trả kết quả cho người nộp; hồ sơ sẽ kết thúc.' },
  stop: { label: 'Dừng xử lý', note: true, kind: 'output', file: 'optional', danger: true,
    help: 'Dừng xử lý hồ sơ; ghi rõ lý do. Hồ sơ sẽ kết thúc.' },
  withdraw: { label: 'Rút hồ sơ (theo đề nghị của người nộp)', note: true, kind: 'output', file: 'optional', danger: true,
    help: 'Người nộp đề nghị rút hồ sơ bằng văn bản; đính kèm đơn nếu có. Hồ sơ sẽ kết thúc.' },
};
const STEP_ACTIONS = ['forward', 'return', 'supplement', 'extend', 'handover', 'refuse'];

const MAX_UPLOAD = 100 * 1048576;      /* tthc_max_request_size */
const CODE_RE = /^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}$/;
const SHA_RE = /^[0-9a-f]{64}$/;

/* ------------------------------------------------------------ time */

const TZ = 7 * 3600;                   /* Asia/Ho_Chi_Minh: UTC+7, no DST */
const FAR = 4102444800;                /* 2100-01-01: the read model's "no deadline" */
const pad = (n) => String(n).padStart(2, '0');

function fmtEpoch(s) {
  if (typeof s !== 'number' || !isFinite(s) || s <= 0 || s >= FAR) return '—';
  const d = new Date((s + TZ) * 1000);
  return pad(d.getUTCDate()) + '/' + pad(d.getUTCMonth() + 1) + '/' + d.getUTCFullYear() + ' ' +
         pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
}
function isoEpoch(v) {
  if (typeof v !== 'string' || !v) return null;
  const ms = Date.parse(v);
  return isNaN(ms) ? null : Math.floor(ms / 1000);
}
function fmtIso(v) {
  const s = isoEpoch(v);
  return s === null ? (v ? String(v) : '—') : fmtEpoch(s);
}
/* working minutes: 1 working day = 8 hours = 480 minutes */
function fmtMinutes(m) {
  if (typeof m !== 'number' || !isFinite(m)) return '—';
  if (m === 0) return '0 phút';
  const neg = m < 0;
  m = Math.abs(Math.round(m));
  const parts = [];
  const d = Math.floor(m / 480), h = Math.floor((m % 480) / 60), mi = m % 60;
  if (d) parts.push(d + ' ngày');
  if (h) parts.push(h + ' giờ');
  if (mi) parts.push(mi + ' phút');
  return (neg ? '−' : '') + parts.join(' ') + ' làm việc';
}

/* ------------------------------------------------------------ API */

let session = null;        /* the official's session (GET /api/v1/session) */
let csrf = null;           /* its CSRF token, in memory only */

async function api(path, opts) {
  opts = opts || {};
  const method = opts.method || 'GET';
  const headers = Object.assign({}, opts.headers || {});
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    return { status: 0, body: null };
  }
  let data = null;
  try { data = await res.json(); } catch (e) { /* not JSON */ }
  if (res.status === 401 && !opts.anonymous && session) sessionLost();
  return { status: res.status, body: data };
}

function errorCode(r) {
  return r.body && r.body.error && r.body.error.code;
}
function messageOf(code, message, field) {
  const m = (typeof message === 'string' && message) || ERRORS[code] ||
            (code ? 'Lỗi: ' + code + '.' : 'Lỗi không xác định.');
  return field ? m + ' (' + (FIELDS[field] || field) + ')' : m;
}
function errorText(r) {
  if (r.status === 0) return 'Không kết nối được với máy chủ. Vui lòng kiểm tra kết nối mạng và thử lại.';
  const e = r.body && r.body.error;
  return e ? messageOf(e.code, e.message, e.field) : 'Lỗi không xác định (HTTP ' + r.status + ').';
}

function newKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
/* one idempotency key per intended change: a retry of the same request
 * (lost answer, 503) reuses it; anything different gets a new one */
function idemKey(slot, sig) {
  if (slot.sig !== sig || !slot.key) { slot.sig = sig; slot.key = newKey(); }
  return slot.key;
}
function idemDone(slot) { slot.sig = null; slot.key = null; }

/* files: POST /api/v1/files, raw body; kept per File so a retry does not upload again */
const uploaded = new WeakMap();
function shortName(name) {
  name = String(name || 'tep-dinh-kem').replace(/[\u0000-\u001f\u007f]/g, '');
  const enc = new TextEncoder();
  if (enc.encode(name).length <= 255) return name || 'tep-dinh-kem';
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 10 ? name.slice(dot) : '';
  let base = Array.from(ext ? name.slice(0, dot) : name);
  while (base.length && enc.encode(base.join('') + ext).length > 255) base.pop();
  return base.join('') + ext;
}
async function uploadFile(file) {
  if (uploaded.has(file)) return { ok: true, file: uploaded.get(file) };
  if (file.size === 0) return { ok: false, message: 'Tệp «' + file.name + '» không có nội dung. Vui lòng chọn lại tệp.' };
  if (file.size > MAX_UPLOAD) return { ok: false, message: 'Tệp «' + file.name + '» vượt quá dung lượng cho phép (100 MB).' };
  const r = await api('/api/v1/files', {
    method: 'POST', body: file,
    headers: { 'X-File-Name': encodeURIComponent(shortName(file.name)),
               'Content-Type': file.type || 'application/octet-stream' },
  });
  if ((r.status === 201 || r.status === 200) && r.body && SHA_RE.test(r.body.sha256 || '')) {
    uploaded.set(file, r.body);
    return { ok: true, file: r.body };
  }
  return { ok: false, message: 'Tệp «' + file.name + '»: ' + errorText(r) };
}
/* upload a list; progress in `out`; returns [{file, info}] or null (error shown) */
async function uploadAll(files, out) {
  const done = [];
  for (let i = 0; i < files.length; i++) {
    say(out, 'Đang tải lên tệp ' + (i + 1) + '/' + files.length + ': ' + files[i].name + '…');
    const u = await uploadFile(files[i]);
    if (!u.ok) { say(out, u.message, 'error'); return null; }
    done.push({ file: files[i], info: u.file });
  }
  return done;
}

/* ------------------------------------------------------------ page helpers */

function say(target, text, kind) {
  const p = el('p', { class: kind || '' }, text);
  if (kind === 'error') p.setAttribute('role', 'alert');
  target.replaceChildren(p);
  return p;
}
function notice(text, kind) {
  const n = $('#notice');
  n.className = kind || '';
  n.textContent = text || '';
}
function badge(pair, fallback) {
  if (!pair) return el('span', { class: 'badge badge-none' }, fallback || '—');
  return el('span', { class: 'badge ' + pair[0] }, pair[1]);
}
function txt(v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'object') return v.name ? String(v.name) : JSON.stringify(v);
  return String(v);
}
function dl(pairs) {
  const d = el('dl', {});
  for (const [k, v] of pairs) {
    if (v === null || v === undefined || v === '' || v === false) continue;
    d.append(el('dt', {}, k), el('dd', {}, v));
  }
  return d;
}
function table(caption, heads, rows, empty) {
  if (!rows.length) return el('p', { class: 'help' }, empty || 'Không có.');
  return el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    el('table', {},
      el('caption', { class: 'visually-hidden' }, caption),
      el('thead', {}, el('tr', {}, heads.map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows.map((r) => el('tr', {}, r.map((c) => el('td', {}, c)))))));
}
function size(n) {
  if (typeof n !== 'number') return '—';
  return n >= 1048576 ? (n / 1048576).toFixed(1) + ' MB' : Math.max(1, Math.ceil(n / 1024)) + ' KB';
}
function hasRole(r) { return !!(session && Array.isArray(session.roles) && session.roles.includes(r)); }
function busy(button, on) {
  button.disabled = on;
  if (on) button.setAttribute('aria-busy', 'true'); else button.removeAttribute('aria-busy');
}

/* ------------------------------------------------------------ session */

async function loadSession(message) {
  const r = await api('/api/v1/session', { anonymous: true });
  if (r.status !== 200 || !r.body) {
    session = null;
    csrf = null;
    showSignin(null);
    notice(errorText(r), 'error');
    return;
  }
  const s = r.body;
  if (s.authenticated && s.kind === 'staff') {
    session = s;
    csrf = s.csrf_token;
    notice(message || '');
    showApp();
  } else {
    session = null;
    /* an applicant signed in on this browser: the staff sign-in needs its token */
    csrf = s.authenticated ? s.csrf_token : null;
    showSignin(s);
    notice(message || '', message ? 'ok' : '');
  }
}

function renderAccount() {
  const box = $('#account');
  box.replaceChildren();
  if (!session) return;
  const roles = (session.roles || []).map((r) => ROLES[r] || r).join(', ');
  box.append(el('span', {}, 'Cán bộ: ', el('strong', {}, txt(session.name)),
                ' (' + txt(session.username) + ')' + (roles ? ' · ' + roles : '') +
                (session.agency ? ' · ' + session.agency : '') + ' '),
             el('button', { type: 'button', id: 'signout', onclick: signOut }, 'Đăng xuất'));
}

function showSignin(s) {
  clearAll();
  renderAccount();
  $('#signin').hidden = false;
  $('#staff-nav').hidden = true;
  const other = $('#signin-other');
  if (s && s.authenticated && s.kind === 'applicant') {
    other.hidden = false;
    other.textContent = 'Trình duyệt này đang đăng nhập bằng tài khoản công dân (' + txt(s.name) +
      '). Đăng nhập cán bộ sẽ kết thúc phiên làm việc đó.';
  } else {
    other.hidden = true;
    other.textContent = '';
  }
  $('#si-username').focus();
}

function showApp() {
  renderAccount();
  $('#signin').hidden = true;
  $('#signin-error').replaceChildren();
  $('#staff-nav').hidden = false;
  $('#inbox').hidden = false;
  const desk = hasRole('desk_officer');
  $('#register').hidden = !desk;
  $('#nav-register').hidden = !desk;
  const acc = $('#batch-action').querySelector('option[value=accept]');
  acc.hidden = !desk;
  acc.disabled = !desk;
  if (!desk) $('#batch-action').value = 'forward';
  loadProcedures();
  loadInbox();
}

/* forget everything shown: nothing of a signed-out session stays on screen */
function clearAll() {
  $('#inbox').hidden = true;
  $('#detail').hidden = true;
  $('#register').hidden = true;
  $('#slip').hidden = true;
  $('#inbox-body').replaceChildren();
  $('#inbox-info').textContent = '';
  $('#inbox-pager').replaceChildren();
  $('#batch-result').replaceChildren();
  $('#detail-body').replaceChildren();
  $('#act-result').replaceChildren();
  $('#reg-result').replaceChildren();
  $('#slip-body').replaceChildren();
  $('#act-form').hidden = true;
  $('#act-files').value = '';
  $('#batch-note').value = '';
  $('#reg-form').reset();
  resetRegistration();
  selected.clear();
  updateBatch();
  current = null;
  processes.clear();
}

let lostOnce = false;
function sessionLost() {
  if (lostOnce) return;
  lostOnce = true;
  session = null;
  csrf = null;
  loadSession('Phiên làm việc đã hết hạn hoặc đã kết thúc. Vui lòng đăng nhập lại.')
    .finally(() => { lostOnce = false; });
}

$('#signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const out = $('#signin-error');
  const btn = $('#si-submit');
  const body = { username: $('#si-username').value.trim(), password: $('#si-password').value };
  const totp = $('#si-totp').value.trim();
  if (totp) body.totp = totp;
  busy(btn, true);
  say(out, 'Đang đăng nhập…');
  const r = await api('/api/v1/staff/signin', { method: 'POST', json: body, anonymous: true });
  busy(btn, false);
  if (r.status === 200 && r.body && r.body.signed_in) {
    csrf = r.body.csrf_token;
    $('#si-password').value = '';
    $('#si-totp').value = '';
    out.replaceChildren();
    await loadSession();
    $('#main').focus();
    return;
  }
  say(out, errorText(r), 'error');
  const code = errorCode(r);
  if (code === 'TOTP_REQUIRED') {
    $('#si-totp').focus();           /* same request again, with the code */
  } else {
    $('#si-password').value = '';
    $('#si-totp').value = '';
    if (code === 'CSRF_FAILED') loadSession();
    $('#si-password').focus();
  }
});

async function signOut() {
  const r = await api('/api/v1/auth/signout', { method: 'POST', anonymous: true });
  session = null;
  csrf = null;
  if (r.status === 200 || r.status === 401) await loadSession('Bạn đã đăng xuất.');
  else { await loadSession(); notice(errorText(r), 'error'); }
}

/* ------------------------------------------------------------ catalogue */

let procedures = [];        /* catalogue summaries of my agency */

async function loadProcedures() {
  const agency = session && session.agency;
  const all = [];
  for (let page = 1; page <= 50; page++) {
    const r = await api('/api/v1/procedures?page_size=100&page=' + page +
                        (agency ? '&agency=' + encodeURIComponent(agency) : ''));
    if (r.status !== 200 || !r.body || !Array.isArray(r.body.items)) break;
    all.push(...r.body.items);
    if (r.body.items.length === 0 || all.length >= r.body.total) break;
  }
  procedures = all;
  const list = $('#procedure-list');
  list.replaceChildren(...all.map((p) => el('option', { value: p.code, label: p.name })));
  const sel = $('#reg-proc');
  const keep = sel.value;
  sel.replaceChildren(el('option', { value: '' }, '— Chọn thủ tục —'),
    ...all.map((p) => el('option', { value: p.code }, p.name + ' — ' + p.code)));
  if (keep && all.some((p) => p.code === keep)) sel.value = keep;
}

/* the active process of a procedure (which actions each step allows) */
const processes = new Map();
async function processOf(code) {
  if (processes.has(code)) return processes.get(code);
  const r = await api('/api/v1/staff/procedures/' + encodeURIComponent(code) + '/process');
  const p = r.status === 200 && r.body && Array.isArray(r.body.steps) ? r.body : null;
  if (r.status === 200 || r.status === 404 || r.status === 409) processes.set(code, p);
  return p;
}

/* ------------------------------------------------------------ inbox */

const inbox = { offset: 0, limit: 20, colour: '', procedure: '', status: '', q: '', total: 0, items: [] };
const selected = new Map();  /* code -> stage, kept across pages */
const batchIdem = {};

{
  const st = $('#f-status');
  for (const [k, v] of Object.entries(STATUS)) st.append(el('option', { value: k }, k + ' — ' + v));
}

$('#inbox-filter').addEventListener('submit', (ev) => {
  ev.preventDefault();
  inbox.colour = $('#f-colour').value;
  inbox.procedure = $('#f-procedure').value.trim();
  inbox.status = $('#f-status').value;
  inbox.q = $('#f-q').value.trim();
  inbox.limit = parseInt($('#f-limit').value, 10) || 20;
  inbox.offset = 0;
  loadInbox();
});
$('#f-reset').addEventListener('click', () => {
  $('#inbox-filter').reset();
  Object.assign(inbox, { offset: 0, limit: 20, colour: '', procedure: '', status: '', q: '' });
  loadInbox();
});
$('#inbox-refresh').addEventListener('click', () => loadInbox());

let inboxSeq = 0;
async function loadInbox() {
  const seq = ++inboxSeq;
  const p = ['limit=' + inbox.limit, 'offset=' + inbox.offset];
  for (const k of ['colour', 'procedure', 'status', 'q']) {
    if (inbox[k]) p.push(k + '=' + encodeURIComponent(inbox[k]));
  }
  const info = $('#inbox-info');
  info.textContent = 'Đang tải danh sách hồ sơ…';
  const r = await api('/api/v1/staff/inbox?' + p.join('&'));
  if (seq !== inboxSeq || !session) return;    /* a newer request, or signed out */
  const body = $('#inbox-body');
  if (r.status !== 200 || !r.body) {
    body.replaceChildren();
    $('#inbox-pager').replaceChildren();
    info.replaceChildren(el('span', { class: 'error', role: 'alert' }, errorText(r)));
    return;
  }
  const d = r.body;
  const items = Array.isArray(d.items) ? d.items : [];
  inbox.total = typeof d.total === 'number' ? d.total : items.length;
  if (items.length === 0 && inbox.offset > 0 && inbox.total > 0) {
    /* the page emptied (dossiers moved on): show the last one */
    inbox.offset = Math.max(0, Math.floor((inbox.total - 1) / inbox.limit) * inbox.limit);
    return loadInbox();
  }
  inbox.items = items;
  body.replaceChildren(...items.map(inboxRow));
  if (items.length === 0) {
    body.append(el('tr', {}, el('td', { colspan: '8', class: 'empty' },
      inbox.colour || inbox.procedure || inbox.status || inbox.q
        ? 'Không có hồ sơ nào phù hợp với bộ lọc.' : 'Không có hồ sơ nào đang chờ bạn xử lý.')));
  }
  const from = items.length ? inbox.offset + 1 : 0, to = inbox.offset + items.length;
  info.textContent = 'Tổng số: ' + inbox.total + ' hồ sơ' + (d.truncated ? ' (chỉ đếm trong 20.000 hồ sơ đầu)' : '') +
    (items.length ? ' · đang hiển thị ' + from + '–' + to : '') +
    ' · thời điểm tính hạn: ' + fmtIso(d.now) + '.';
  renderPager();
  syncPageCheckbox();
}

function colourCell(it) {
  if (it.stage === 'reception') return badge(null, 'Chờ tiếp nhận');
  if (it.stage === 'supplement') return badge(null, 'Tạm dừng');
  return badge(COLOURS[it.colour], '—');
}
function stepCell(it) {
  const b = badge(STEP_STATES[it.step_state], '—');
  return typeof it.step_due_at === 'number' && it.step_due_at > 0 && it.step_due_at < FAR
    ? [b, el('small', {}, 'Hạn bước: ' + fmtEpoch(it.step_due_at))] : b;
}
function stepText(it) {
  const parts = [];
  if (it.stage === 'step' && it.step) {
    parts.push('Bước ' + txt(it.step.position) + ': ' + txt(it.step.name));
    parts.push(el('small', {}, (ROLES[it.step.role] || txt(it.step.role)) +
      (it.step.department ? ' · phòng số ' + it.step.department : '')));
  } else {
    parts.push(STAGES[it.stage] || txt(it.stage));
  }
  if (it.assignee && it.assignee.id !== undefined) {
    const mine = session && String(it.assignee.id) === String(session.user_id);
    parts.push(el('small', {}, mine ? 'Được giao cho tôi' : 'Được giao: cán bộ số ' + it.assignee.id));
  }
  if (it.supplement_count) parts.push(el('small', {}, 'Đã bổ sung ' + it.supplement_count + ' lần'));
  return parts;
}
function inboxRow(it) {
  const code = String(it.code || '');
  const cb = el('input', { type: 'checkbox', class: 'row-select', 'aria-label': 'Chọn hồ sơ ' + code });
  cb.checked = selected.has(code);
  cb.addEventListener('change', () => {
    if (cb.checked) selected.set(code, it.stage); else selected.delete(code);
    updateBatch();
    syncPageCheckbox();
  });
  const proc = it.procedure || {};
  const due = [fmtEpoch(it.due_at)];
  if (it.joint && typeof it.transfer_due_at === 'number') {
    due.push(el('small', {}, 'Liên thông — hạn chuyển của cơ quan: ' + fmtEpoch(it.transfer_due_at)));
  }
  return el('tr', { class: it.colour ? 'row-' + it.colour : '' },
    el('td', {}, cb),
    el('td', {}, colourCell(it)),
    el('td', {}, stepCell(it)),
    el('td', {}, el('button', { type: 'button', class: 'link code', onclick: () => openDossier(code) }, code)),
    el('td', {}, txt(proc.name), el('small', {}, txt(proc.code))),
    el('td', {}, txt(it.applicant)),
    el('td', {}, stepText(it)),
    el('td', {}, due));
}

function renderPager() {
  const nav = $('#inbox-pager');
  const pages = Math.max(1, Math.ceil(inbox.total / inbox.limit));
  const page = Math.floor(inbox.offset / inbox.limit) + 1;
  nav.replaceChildren(el('span', {}, 'Trang ' + page + '/' + pages + ' '));
  if (inbox.offset > 0) {
    nav.append(el('button', { type: 'button', class: 'secondary', onclick: () => {
      inbox.offset = Math.max(0, inbox.offset - inbox.limit); loadInbox(); } }, '‹ Trang trước'));
  }
  if (inbox.offset + inbox.limit < inbox.total && inbox.offset + inbox.limit <= 10000) {
    nav.append(el('button', { type: 'button', class: 'secondary', onclick: () => {
      inbox.offset += inbox.limit; loadInbox(); } }, 'Trang sau ›'));
  }
}

function syncPageCheckbox() {
  const boxes = Array.from(document.querySelectorAll('#inbox-body .row-select'));
  const all = $('#select-page');
  const n = boxes.filter((b) => b.checked).length;
  all.checked = boxes.length > 0 && n === boxes.length;
  all.indeterminate = n > 0 && n < boxes.length;
}
$('#select-page').addEventListener('change', (ev) => {
  const on = ev.target.checked;
  for (const it of inbox.items) {
    const code = String(it.code || '');
    if (on) selected.set(code, it.stage); else selected.delete(code);
  }
  for (const b of document.querySelectorAll('#inbox-body .row-select')) b.checked = on;
  updateBatch();
});

/* ------------------------------------------------------------ batch */

function updateBatch() {
  const n = selected.size;
  $('#batch-count').textContent = n === 0 ? 'Chưa chọn hồ sơ nào.'
    : 'Đã chọn ' + n + ' hồ sơ' + (n > 100 ? ' — mỗi lần chỉ được xử lý tối đa 100 hồ sơ.' : '.');
  $('#batch-submit').disabled = n === 0 || n > 100;
  $('#batch-submit').textContent = n ? 'Thực hiện với ' + n + ' hồ sơ đã chọn' : 'Thực hiện với các hồ sơ đã chọn';
  $('#batch-note-req').textContent = $('#batch-action').value === 'accept' ? '(không bắt buộc)' : '(bắt buộc)';
}
$('#batch-action').addEventListener('change', updateBatch);
$('#batch-clear').addEventListener('click', () => {
  selected.clear();
  for (const b of document.querySelectorAll('#inbox-body .row-select')) b.checked = false;
  syncPageCheckbox();
  updateBatch();
});

$('#batch-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const out = $('#batch-result');
  const codes = Array.from(selected.keys());
  const action = $('#batch-action').value;
  const note = $('#batch-note').value.trim();
  if (codes.length === 0) { say(out, 'Vui lòng chọn ít nhất một hồ sơ.', 'error'); return; }
  if (codes.length > 100) { say(out, ERRORS.TOO_MANY_DOSSIERS, 'error'); return; }
  if (ACTS[action].note && !note) { say(out, ERRORS.NOTE_REQUIRED, 'error'); $('#batch-note').focus(); return; }
  const body = { action, codes };
  if (note) body.note = note;
  body.idempotency_key = idemKey(batchIdem, JSON.stringify(body));
  const btn = $('#batch-submit');
  busy(btn, true);
  say(out, 'Đang xử lý ' + codes.length + ' hồ sơ…');
  const r = await api('/api/v1/staff/actions', { method: 'POST', json: body });
  busy(btn, false);
  updateBatch();
  if (r.status !== 200 || !r.body || !Array.isArray(r.body.results)) { say(out, errorText(r), 'error'); return; }
  idemDone(batchIdem);
  const results = r.body.results;
  const ok = results.filter((x) => x.ok).length;
  out.replaceChildren(
    el('p', { class: ok === results.length ? 'ok' : (ok ? '' : 'error'), role: 'status' },
      ACTS[action].label + ': thành công ' + ok + '/' + results.length + ' hồ sơ.'),
    table('Kết quả xử lý từng hồ sơ', ['Mã hồ sơ', 'Kết quả'], results.map((x) => {
      const code = txt(x.code);
      const res = x.ok
        ? el('span', { class: 'ok' }, 'Thành công — ' + (STATUS[x.status] || ('trạng thái ' + txt(x.status))))
        : el('span', { class: 'error' }, messageOf(x.error, x.message, x.field));
      const link = typeof x.code === 'string' && CODE_RE.test(x.code)
        ? el('button', { type: 'button', class: 'link code', onclick: () => openDossier(x.code) }, code) : code;
      return [link, res];
    })));
  for (const x of results) if (x.ok) selected.delete(x.code);
  if (ok) $('#batch-note').value = '';
  updateBatch();
  loadInbox();
});

/* ------------------------------------------------------------ one dossier */

let current = null;          /* the private view shown */
let pending = null;          /* the action whose form is open */
const actIdem = {};

$('#open-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const code = $('#open-code').value.trim();
  if (code) openDossier(code);
});
$('#detail-close').addEventListener('click', () => {
  $('#detail').hidden = true;
  current = null;
  $('#detail-body').replaceChildren();
  $('#inbox-h').scrollIntoView();
});

async function openDossier(code, keep) {
  const sec = $('#detail');
  const body = $('#detail-body');
  sec.hidden = false;
  if (!keep) {
    $('#act-result').replaceChildren();
    closeActionForm();
    say(body, 'Đang tải hồ sơ ' + code + '…');
  }
  const r = await api('/api/v1/staff/dossiers/' + encodeURIComponent(code));
  if (!session) return;
  if (r.status !== 200 || !r.body) {
    current = null;
    $('#actions').hidden = true;
    $('#detail-h').textContent = 'Chi tiết hồ sơ ' + code;
    say(body, errorText(r), 'error');
    if (!keep) sec.focus();
    return;
  }
  current = r.body;
  renderDetail(current);
  await renderActions(current);
  if (!keep) { sec.focus(); sec.scrollIntoView(); }
}

function fileLink(code, f) {
  if (typeof f.sha256 === 'string' && SHA_RE.test(f.sha256) && CODE_RE.test(code)) {
    return el('a', { href: '/api/v1/staff/dossiers/' + encodeURIComponent(code) + '/files/' + f.sha256,
                     download: '' }, txt(f.name));
  }
  return txt(f.name);
}
function historyFiles(files) {
  if (!Array.isArray(files) || !files.length) return null;
  return el('small', {}, 'Tệp: ' + files.map((f) => typeof f === 'object' && f
    ? txt(f.name || f.sha256) + (f.kind ? ' (' + (FILE_KINDS[f.kind] || f.kind) + ')' : '') : txt(f)).join('; '));
}

function renderDetail(v) {
  const wf = v.workflow || null;
  const code = String(v.code || '');
  $('#detail-h').textContent = 'Hồ sơ ' + code;
  const app = v.application || {};
  const ap = app.applicant || {};
  const body = $('#detail-body');
  const now = Math.floor(Date.now() / 1000);

  const status = el('p', { class: 'status-line' },
    el('span', { class: 'status' }, v.status ? txt(v.status.label) : '—'),
    wf && wf.warning && COLOURS[wf.warning] && wf.stage !== 'supplement' && wf.stage !== 'closed' && wf.stage !== 'done'
      ? [' ', badge(COLOURS[wf.warning])] : null,
    v.provisional ? el('small', {}, 'Thông tin tạm thời, hệ thống đang ghi nhận hồ sơ.') : null);

  const postal = app.postal_address && typeof app.postal_address === 'object'
    ? [app.postal_address.street, app.postal_address.ward, app.postal_address.district, app.postal_address.province]
        .filter((x) => x).join(', ') : '';
  const info = dl([
    ['Thủ tục', v.procedure ? txt(v.procedure.name) + ' (' + txt(v.procedure.code) + ')' : '—'],
    ['Cơ quan tiếp nhận', v.agency ? txt(v.agency.name) + ' (' + txt(v.agency.code) + ')' : '—'],
    ['Người nộp', txt(v.applicant && v.applicant.name) +
       (ap.type === 'organisation' ? ' (tổ chức)' : ap.type === 'citizen' ? ' (công dân)' : '')],
    ['Số định danh', v.applicant && v.applicant.identity_number ? txt(v.applicant.identity_number) : null],
    ['Thư điện tử', ap.email ? txt(ap.email) : null],
    ['Số điện thoại', ap.phone ? txt(ap.phone) : null],
    ['Ngày nộp', fmtIso(v.submitted_at)],
    ['Hình thức nhận kết quả', (RESULT_CHANNELS[v.result_channel] || txt(v.result_channel)) + (postal ? ': ' + postal : '')],
  ]);

  const parts = [status, info];

  const form = app.form && typeof app.form === 'object' ? Object.entries(app.form) : [];
  if (form.length) {
    parts.push(el('h3', {}, 'Thông tin tờ khai'), dl(form.map(([k, x]) => [k, typeof x === 'object' ? JSON.stringify(x) : txt(x)])));
  }

  parts.push(el('h3', {}, 'Thành phần hồ sơ'),
    table('Thành phần hồ sơ', ['Thành phần', 'Tệp', 'Dung lượng', 'Định dạng'],
      (v.files || []).map((f) => [txt(f.component), fileLink(code, f), size(f.size), txt(f.media_type)]),
      'Hồ sơ không có tệp đính kèm.'));

  /* A8: fees paid online (docs/exchange-payment.md) */
  const pay = v.payment;
  if (pay && typeof pay === 'object') {
    const rc = pay.receipt;
    parts.push(el('h3', {}, 'Phí, lệ phí (thanh toán trực tuyến)'), dl([
      ['Số tiền', Number(pay.amount).toLocaleString('vi-VN') + ' đồng'],
      ['Tình trạng', pay.state === 'paid' ? 'Đã nộp' : pay.due ? 'Chờ người nộp thanh toán' : 'Chưa nộp'],
      ['Biên lai điện tử', rc ? txt(rc.KyHieuBienLai) + ' số ' + txt(rc.SoBienLai) + ' · mã tra cứu ' + txt(rc.MaTraCuuBienLai) : null],
      ['Thời điểm nộp', rc && rc.paid_at ? fmtIso(rc.paid_at) : null],
    ]));
  }

  if (wf) {
    const step = wf.step;
    const dueChanged = wf.first_due_at && wf.due_at && wf.first_due_at !== wf.due_at;
    parts.push(el('h3', {}, 'Tiến trình xử lý'), dl([
      ['Giai đoạn', STAGES[wf.stage] || txt(wf.stage)],
      ['Bước hiện tại', step ? 'Bước ' + txt(step.position) + ': ' + txt(step.name) + ' — ' +
         (ROLES[step.role] || txt(step.role)) + ' · ' + txt(step.agency) +
         (step.department ? ' · phòng số ' + step.department : '') : null],
      ['Cán bộ được giao', wf.assignee ? txt(wf.assignee.name || ('cán bộ số ' + wf.assignee.id)) : null],
      ['Thời điểm tiếp nhận', wf.receipt_at ? fmtIso(wf.receipt_at) : null],
      ['Ngày hẹn trả kết quả', wf.due_at ? fmtIso(wf.due_at) + (dueChanged ? ' (hẹn ban đầu: ' + fmtIso(wf.first_due_at) + ')' : '') : null],
      ['Tạm dừng từ', wf.paused_at ? fmtIso(wf.paused_at) : null],
      ['Ngày có kết quả', wf.result_at ? fmtIso(wf.result_at) : null],
      ['Ngày trả kết quả', wf.returned_at ? fmtIso(wf.returned_at) : null],
      ['Loại kết quả', wf.result_kind ? RESULT_KINDS[wf.result_kind] || txt(wf.result_kind) : null],
      ['Đánh giá', wf.outcome ? OUTCOMES[wf.outcome] || txt(wf.outcome) : null],
      ['Số lần bổ sung', wf.supplement_count ? String(wf.supplement_count) : null],
      ['Đã xin lỗi, hẹn lại', wf.apologised ? 'Có' : null],
      ['Quy trình', (wf.joint ? 'Liên thông nhiều cơ quan' : 'Một cơ quan') +
         (wf.process_version ? ' · phiên bản ' + wf.process_version : '')],
    ]));

    parts.push(el('h3', {}, 'Các bước đã xử lý'),
      table('Các bước đã xử lý', ['Lượt', 'Bước', 'Cơ quan', 'Cán bộ', 'Bắt đầu', 'Kết thúc', 'Hạn của bước', 'Thời gian đã dùng', 'Kết thúc bằng'],
        (wf.steps || []).map((s) => {
          const dueS = isoEpoch(s.budget_due_at), endS = isoEpoch(s.ended_at);
          const late = dueS !== null && (endS !== null ? endS > dueS : now > dueS);
          return [txt(s.visit), 'Bước ' + txt(s.position) + ': ' + txt(s.name) + (s.role ? ' (' + (ROLES[s.role] || s.role) + ')' : ''),
            txt(s.agency), txt(s.official), fmtIso(s.started_at), s.ended_at ? fmtIso(s.ended_at) : 'Đang xử lý',
            [fmtIso(s.budget_due_at), late ? [' ', badge(['badge-red', 'Quá hạn'])] : null],
            fmtMinutes(s.used_minutes), s.end_action ? (ACTS[s.end_action] ? ACTS[s.end_action].label : txt(s.end_action)) : '—'];
        }), 'Chưa có bước xử lý nào.'));

    parts.push(el('h3', {}, 'Thời gian theo cơ quan'),
      table('Thời gian theo cơ quan', ['Cơ quan', 'Nhận hồ sơ', 'Hạn chuyển', 'Định mức', 'Gia hạn', 'Đã dùng', 'Trễ hạn'],
        (wf.agencies || []).map((a) => [
          txt(a.name) + (a.agency ? ' (' + a.agency + ')' : ''), fmtIso(a.received_at), fmtIso(a.transfer_due_at),
          fmtMinutes(a.budget_minutes), a.extension_minutes ? fmtMinutes(a.extension_minutes) : '—',
          fmtMinutes(a.used_minutes), a.late ? badge(['badge-red', 'Có']) : 'Không']),
        'Chưa có.'));

    if (Array.isArray(wf.pauses) && wf.pauses.length) {
      parts.push(el('h3', {}, 'Thời gian tạm dừng'),
        table('Thời gian tạm dừng', ['Bắt đầu', 'Kết thúc', 'Thời gian', 'Lý do'],
          wf.pauses.map((p) => [fmtIso(p.started_at), p.ended_at ? fmtIso(p.ended_at) : 'Đang tạm dừng',
            p.minutes === null || p.minutes === undefined ? '—' : fmtMinutes(p.minutes),
            PAUSE_REASONS[p.reason] || txt(p.reason)])));
    }
    if (Array.isArray(wf.officials) && wf.officials.length) {
      parts.push(el('h3', {}, 'Thời gian xử lý của từng cán bộ'),
        table('Thời gian xử lý của từng cán bộ', ['Cán bộ', 'Cơ quan', 'Số lượt', 'Thời gian đã dùng'],
          wf.officials.map((o) => [txt(o.name), txt(o.agency), txt(o.steps), fmtMinutes(o.used_minutes)])));
    }
  }

  const hist = el('ol', { class: 'history' });
  for (const h of v.history || []) {
    const who = h.actor ? (typeof h.actor === 'object' ? txt(h.actor.name) : txt(h.actor)) : null;
    hist.append(el('li', {},
      el('span', { class: 'when' }, fmtIso(h.at)), ' — ', txt(h.label),
      h.step ? ' (bước ' + (typeof h.step === 'object' ? txt(h.step.position || h.step.name) : txt(h.step)) + ')' : null,
      who ? el('small', {}, 'Người thực hiện: ' + who) : null,
      h.note ? el('small', {}, 'Ý kiến: ' + txt(h.note)) : null,
      historyFiles(h.files)));
  }
  parts.push(el('h3', {}, 'Lịch sử xử lý'), (v.history || []).length ? hist : el('p', { class: 'help' }, 'Chưa có.'));

  body.replaceChildren(...parts);
}

/* the actions the stage allows, narrowed by my roles and the step's actions */
async function renderActions(v) {
  const box = $('#actions');
  const buttons = $('#act-buttons');
  buttons.replaceChildren();
  const wf = v.workflow;
  if (!wf || !session) { box.hidden = true; return; }
  box.hidden = false;
  const handles = HANDLING_ROLES.some(hasRole);
  if (!handles) {
    buttons.append(el('p', { class: 'help' }, 'Tài khoản của bạn chỉ có quyền xem hồ sơ.'));
    return;
  }
  const desk = hasRole('desk_officer'), leader = hasRole('agency_leader');
  let proc = null;
  if (v.procedure && v.procedure.code) {
    proc = await processOf(v.procedure.code);
    if (proc && wf.process_version && proc.version !== wf.process_version) proc = null;  /* another version */
  }
  const stepDef = proc && wf.step ? proc.steps.find((s) => s.position === wf.step.position) : null;
  const allows = (a) => !stepDef || (Array.isArray(stepDef.actions) && stepDef.actions.includes(a));
  const firstPos = proc && proc.steps.length ? proc.steps[0].position : 1;
  const list = [];
  switch (wf.stage) {
  case 'reception':
    if (desk) list.push('accept', 'refuse_reception', 'withdraw');
    if (desk || leader) list.push('stop');
    break;
  case 'step':
    for (const a of STEP_ACTIONS) {
      if (!allows(a)) continue;
      if (a === 'return' && wf.step && wf.step.position <= firstPos) continue;
      if (a === 'extend' && !wf.joint) continue;
      list.push(a);
    }
    if (desk || leader) list.push('apologise');
    if (desk || leader || allows('stop')) list.push('stop');
    if (desk || allows('withdraw')) list.push('withdraw');
    break;
  case 'supplement':
    if (desk || leader) list.push('stop');
    if (desk) list.push('withdraw');
    break;
  case 'result':
    if (desk) list.push('confirm_result', 'return');
    if (desk || leader) list.push('apologise');
    if (desk || leader) list.push('stop');
    if (desk) list.push('withdraw');
    break;
  case 'done':
    if (desk) list.push('return_result');
    break;
  default:
    break;
  }
  if (!list.length) {
    buttons.append(el('p', { class: 'help' },
      wf.stage === 'closed' ? 'Hồ sơ đã kết thúc, không còn thao tác xử lý.' : 'Không có thao tác nào bạn có thể thực hiện ở giai đoạn này.'));
    return;
  }
  for (const a of list) {
    buttons.append(el('button', { type: 'button', class: ACTS[a].danger ? 'danger' : '', 'data-action': a,
      'aria-controls': 'act-form', onclick: (ev) => openActionForm(a, ev.currentTarget) }, actLabel(a, wf)));
  }
}
function actLabel(a, wf) {
  if (a === 'return' && wf.stage === 'result') return 'Trả lại bước xử lý';
  if (a === 'confirm_result' && wf.result_kind === 'refusal') return 'Xác nhận trả hồ sơ không giải quyết';
  return ACTS[a].label;
}

function show(id, on) { $(id).hidden = !on; }

function openActionForm(a, button) {
  if (!current || !current.workflow) return;
  const wf = current.workflow;
  const cfg = ACTS[a];
  const kind = a === 'confirm_result' && wf.result_kind === 'refusal' ? 'refusal' : cfg.kind;
  pending = { action: a, code: String(current.code), kind, button };
  const form = $('#act-form');
  form.reset();
  $('#act-result').replaceChildren();
  $('#act-legend').textContent = actLabel(a, wf) + ' — hồ sơ ' + current.code;
  let help = cfg.help;
  if (a === 'confirm_result' && kind === 'refusal') help = 'Cần có văn bản trả hồ sơ không giải quyết (đã đính kèm trước đó hoặc đính kèm tại đây).';
  $('#act-help').textContent = help;
  $('#act-note').required = !!cfg.note;
  $('#act-note-req').textContent = cfg.note ? '(bắt buộc)' : '(không bắt buộc)';
  show('#act-days-wrap', !!cfg.days);
  $('#act-days').required = a === 'extend';
  $('#act-days').previousElementSibling.textContent = a === 'extend'
    ? 'Số ngày làm việc gia hạn (1–60)' : 'Số ngày làm việc lùi ngày hẹn';
  show('#act-newdue-wrap', !!cfg.newDue);
  show('#act-official-wrap', !!cfg.toOfficial);
  $('#act-official').required = !!cfg.toOfficial;
  show('#act-step-wrap', !!cfg.toStep);
  if (cfg.toStep) fillSteps(wf);
  show('#act-files-wrap', !!cfg.file);
  $('#act-files').required = cfg.file === 'required';
  $('#act-files-label').textContent = (FILE_KINDS[kind] || 'Tệp đính kèm') +
    (cfg.file === 'required' ? ' (bắt buộc)' : ' (không bắt buộc)');
  $('#act-submit').textContent = 'Xác nhận: ' + actLabel(a, wf);
  $('#act-submit').className = cfg.danger ? 'danger' : '';
  form.hidden = false;
  const first = cfg.days && a === 'extend' ? '#act-days' : cfg.toOfficial ? '#act-official' : cfg.note ? '#act-note'
    : cfg.file ? '#act-files' : '#act-submit';
  $(first).focus();
}

async function fillSteps(wf) {
  const sel = $('#act-step');
  const result = wf.stage === 'result';
  sel.replaceChildren(el('option', { value: '' }, result ? 'Bước cuối cùng (mặc định)' : 'Bước liền trước (mặc định)'));
  const proc = current && current.procedure ? await processOf(current.procedure.code) : null;
  const cur = wf.step ? wf.step.position : Infinity;
  if (proc && (!wf.process_version || proc.version === wf.process_version)) {
    for (const s of proc.steps) {
      if (s.position < cur) sel.append(el('option', { value: String(s.position) }, 'Bước ' + s.position + ': ' + txt(s.name)));
    }
  } else {
    /* the steps visited so far */
    const seen = new Map();
    for (const s of wf.steps || []) if (s.position < cur) seen.set(s.position, s.name);
    for (const [pos, name] of [...seen.entries()].sort((x, y) => x[0] - y[0])) {
      sel.append(el('option', { value: String(pos) }, 'Bước ' + pos + ': ' + txt(name)));
    }
  }
}

function closeActionForm() {
  $('#act-form').hidden = true;
  const b = pending && pending.button;
  pending = null;
  return b;
}
$('#act-cancel').addEventListener('click', () => {
  const b = closeActionForm();
  if (b && b.isConnected) b.focus();
});

$('#act-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (!pending || !current) return;
  const out = $('#act-result');
  const { action, code, kind } = pending;
  const cfg = ACTS[action];
  const note = $('#act-note').value.trim();
  const body = { action };
  if (note) body.note = note;
  else if (cfg.note) { say(out, ERRORS.NOTE_REQUIRED, 'error'); $('#act-note').focus(); return; }
  if (cfg.days) {
    const d = $('#act-days').value.trim();
    if (d) {
      const n = Number(d);
      if (!Number.isInteger(n) || n < 1 || n > 60) { say(out, 'Số ngày làm việc phải từ 1 đến 60.', 'error'); $('#act-days').focus(); return; }
      body.days = n;
    }
  }
  if (cfg.newDue) {
    const nd = $('#act-newdue').value;
    if (nd) {
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(nd)) { say(out, 'Ngày hẹn trả mới không hợp lệ.', 'error'); return; }
      body.new_due = nd + ':00+07:00';
      delete body.days;
    }
  }
  if (action === 'extend' && !body.days) { say(out, 'Vui lòng nhập số ngày làm việc gia hạn (1–60).', 'error'); $('#act-days').focus(); return; }
  if (action === 'apologise' && !body.days && !body.new_due) {
    say(out, 'Vui lòng nhập số ngày làm việc lùi hẹn hoặc ngày hẹn trả mới.', 'error'); $('#act-days').focus(); return;
  }
  if (cfg.toOfficial) {
    const n = Number($('#act-official').value);
    if (!Number.isInteger(n) || n < 1) { say(out, 'Vui lòng nhập mã số (ID) của cán bộ nhận xử lý.', 'error'); $('#act-official').focus(); return; }
    body.to_official = n;
  }
  if (cfg.toStep && $('#act-step').value) body.to_step = Number($('#act-step').value);
  const files = cfg.file ? Array.from($('#act-files').files) : [];
  if (cfg.file === 'required' && files.length === 0) {
    say(out, ERRORS.FILE_REQUIRED, 'error'); $('#act-files').focus(); return;
  }
  const btn = $('#act-submit');
  busy(btn, true);
  try {
    if (files.length) {
      const up = await uploadAll(files, out);
      if (!up) return;
      body.files = up.map((u) => ({ sha256: u.info.sha256, kind }));
    }
    body.idempotency_key = idemKey(actIdem, code + '\n' + JSON.stringify(body));
    say(out, 'Đang thực hiện…');
    const r = await api('/api/v1/staff/dossiers/' + encodeURIComponent(code) + '/actions', { method: 'POST', json: body });
    if (r.status !== 200 && r.status !== 201) {
      say(out, errorText(r), 'error');
      if (errorCode(r) === 'STALE_DOSSIER' || errorCode(r) === 'ILLEGAL_TRANSITION') openDossier(code, true);
      return;
    }
    idemDone(actIdem);
    const res = r.body || {};
    closeActionForm();
    const msg = say(out, 'Đã thực hiện «' + actLabel(action, current.workflow) + '». Trạng thái hồ sơ: ' +
      txt(res.status && res.status.label) + (res.replayed ? ' (thao tác này đã được ghi nhận trước đó).' : '.'), 'ok');
    msg.tabIndex = -1;
    if (res.receipt) {
      const view = current;
      showSlip({
        code: res.receipt.code || res.code, agency: view.agency && view.agency.name,
        procedure: view.procedure && view.procedure.name, applicant: view.applicant && view.applicant.name,
        receipt_at: res.receipt.receipt_at || res.receipt_at, due_at: res.receipt.due_at || res.due_at,
        files: (view.files || []).map((f) => txt(f.component) + ': ' + txt(f.name))
          .concat((res.receipt.files || []).map((n) => txt(n) + ' (bản số hóa)')),
        result_channel: view.result_channel, intake: null,
      });
    }
    await openDossier(code, true);
    if (!res.receipt && msg.isConnected) msg.focus();
    loadInbox();
  } finally {
    busy(btn, false);
  }
});

/* ------------------------------------------------------------ counter registration */

let regProc = null;          /* the chosen procedure, with components */
const regIdem = {};

function resetRegistration() {
  regProc = null;
  $('#reg-proc-info').textContent = '';
  $('#reg-components').replaceChildren(el('legend', {}, 'Thành phần hồ sơ (bản số hóa)'),
    el('p', { class: 'help' }, 'Chọn thủ tục để hiện các thành phần hồ sơ.'));
  $('#reg-channels').replaceChildren();
  setPostal(false);
}
function setPostal(on) {
  $('#reg-postal').hidden = !on;
  for (const id of ['#reg-street', '#reg-district', '#reg-province']) $(id).required = on;
}

$('#reg-proc').addEventListener('change', async () => {
  const code = $('#reg-proc').value;
  resetRegistration();
  if (!code) return;
  const r = await api('/api/v1/procedures/' + encodeURIComponent(code));
  if ($('#reg-proc').value !== code) return;
  if (r.status !== 200 || !r.body) { say($('#reg-result'), errorText(r), 'error'); return; }
  regProc = r.body;
  const p = regProc;
  const fees = (p.fees || []).map((f) => txt(f.name) + ': ' + Number(f.amount).toLocaleString('vi-VN') + ' đ').join('; ');
  $('#reg-proc-info').textContent = txt(p.agency && p.agency.name) +
    (p.processing_time ? ' · thời hạn giải quyết ' + p.processing_time.amount + ' ' + (UNITS[p.processing_time.unit] || '') : '') +
    (fees ? ' · ' + fees : '');
  const comps = $('#reg-components');
  comps.replaceChildren(el('legend', {}, 'Thành phần hồ sơ (bản số hóa)'));
  (p.components || []).forEach((c, i) => {
    const id = 'reg-comp-' + i;
    const types = Array.isArray(c.media_types) ? c.media_types : [];
    const input = el('input', { type: 'file', id, multiple: true, 'data-component': c.code,
      accept: types.join(','), 'aria-describedby': id + '-help' });
    input.required = !!c.required;
    comps.append(el('label', { for: id }, txt(c.name) + (c.required ? ' (bắt buộc)' : ' (nếu có)')), input,
      el('small', { id: id + '-help' }, 'Tối đa ' + size(c.max_size) + ' mỗi tệp; định dạng: ' + types.join(', ')));
  });
  if (!(p.components || []).length) comps.append(el('p', { class: 'help' }, 'Thủ tục không yêu cầu tệp đính kèm.'));
  const ch = $('#reg-channels');
  const channels = Array.isArray(p.result_channels) && p.result_channels.length ? p.result_channels : ['desk'];
  const def = channels.includes('desk') ? 'desk' : channels[0];
  for (const c of channels) {
    const radio = el('input', { type: 'radio', name: 'result_channel', value: c });
    radio.checked = c === def;
    ch.append(el('label', { class: 'choice' }, radio, ' ' + (RESULT_CHANNELS[c] || c)));
  }
  setPostal(def === 'postal');
});
$('#reg-channels').addEventListener('change', () => {
  const c = document.querySelector('#reg-channels input[name=result_channel]:checked');
  setPostal(!!c && c.value === 'postal');
});

$('#reg-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const out = $('#reg-result');
  const f = ev.target;
  if (!regProc || regProc.code !== $('#reg-proc').value) { say(out, 'Vui lòng chọn thủ tục hành chính.', 'error'); $('#reg-proc').focus(); return; }
  if (!f.reportValidity()) return;
  const channel = f.querySelector('input[name=channel]:checked').value;
  const rc = f.querySelector('#reg-channels input[name=result_channel]:checked');
  const applicant = {
    type: f.querySelector('input[name=atype]:checked').value,
    name: $('#reg-name').value.trim(),
  };
  if (!applicant.name) { say(out, 'Vui lòng nhập tên người nộp.', 'error'); $('#reg-name').focus(); return; }
  for (const [k, id] of [['identity_number', '#reg-id'], ['email', '#reg-email'], ['phone', '#reg-phone']]) {
    const x = $(id).value.trim();
    if (x) applicant[k] = x;
  }
  const body = { procedure: regProc.code, channel, applicant, form: {}, result_channel: rc ? rc.value : 'desk' };
  if (body.result_channel === 'postal') {
    body.postal_address = { street: $('#reg-street').value.trim(), district: $('#reg-district').value.trim(),
                            province: $('#reg-province').value.trim() };
    if ($('#reg-ward').value.trim()) body.postal_address.ward = $('#reg-ward').value.trim();
  }
  /* the components' files: checked here against the catalogue, then uploaded */
  const chosen = [];
  for (const input of $('#reg-components').querySelectorAll('input[type=file]')) {
    const comp = (regProc.components || []).find((c) => c.code === input.dataset.component);
    for (const file of input.files) {
      if (comp && typeof comp.max_size === 'number' && file.size > comp.max_size) {
        say(out, 'Tệp «' + file.name + '» vượt quá dung lượng cho phép của thành phần «' + txt(comp.name) +
          '» (tối đa ' + size(comp.max_size) + ').', 'error');
        input.focus();
        return;
      }
      chosen.push({ file, component: input.dataset.component, cname: comp ? txt(comp.name) : input.dataset.component });
    }
  }
  if (chosen.length > 50) { say(out, 'Mỗi hồ sơ có tối đa 50 tệp đính kèm.', 'error'); return; }
  const btn = $('#reg-submit');
  busy(btn, true);
  try {
    const up = await uploadAll(chosen.map((c) => c.file), out);
    if (!up) return;
    body.files = up.map((u, i) => ({ sha256: u.info.sha256, component: chosen[i].component }));
    body.idempotency_key = idemKey(regIdem, JSON.stringify(body));
    say(out, 'Đang tiếp nhận hồ sơ…');
    const r = await api('/api/v1/staff/dossiers', { method: 'POST', json: body });
    if ((r.status !== 201 && r.status !== 200) || !r.body || !r.body.code) { say(out, errorText(r), 'error'); return; }
    idemDone(regIdem);
    const d = r.body, rec = d.receipt || {};
    say(out, 'Đã tiếp nhận hồ sơ. Mã hồ sơ: ' + txt(d.code) + (d.replayed ? ' (hồ sơ đã được tiếp nhận trước đó).' : '.'), 'ok');
    showSlip({
      code: rec.code || d.code, agency: regProc.agency && regProc.agency.name, procedure: regProc.name,
      applicant: applicant.name, receipt_at: rec.receipt_at || d.receipt_at, due_at: rec.due_at || d.due_at,
      files: chosen.map((c) => c.cname + ': ' + c.file.name), result_channel: body.result_channel,
      postal: body.postal_address, intake: channel,
    });
    f.reset();
    resetRegistration();
    loadInbox();
  } finally {
    busy(btn, false);
  }
});

/* ------------------------------------------------------------ receipt slip */

function showSlip(s) {
  $('#slip-agency').textContent = s.agency ? txt(s.agency).toUpperCase() + ' — BỘ PHẬN MỘT CỬA' : 'BỘ PHẬN MỘT CỬA';
  const postal = s.postal ? [s.postal.street, s.postal.ward, s.postal.district, s.postal.province].filter((x) => x).join(', ') : '';
  const files = Array.isArray(s.files) && s.files.length ? el('ol', {}, s.files.map((n) => el('li', {}, n))) : 'Không có.';
  $('#slip-body').replaceChildren(
    dl([
      ['Mã hồ sơ', el('strong', { class: 'slip-code' }, txt(s.code))],
      ['Thủ tục hành chính', txt(s.procedure)],
      ['Người nộp hồ sơ', txt(s.applicant)],
      ['Kênh tiếp nhận', s.intake ? INTAKE_CHANNELS[s.intake] || s.intake : null],
      ['Thời điểm tiếp nhận', fmtIso(s.receipt_at)],
      ['Ngày hẹn trả kết quả', el('strong', {}, fmtIso(s.due_at))],
      ['Hình thức nhận kết quả', s.result_channel ? (RESULT_CHANNELS[s.result_channel] || s.result_channel) + (postal ? ': ' + postal : '') : null],
      ['Cán bộ tiếp nhận', session ? txt(session.name) : null],
    ]),
    el('h3', {}, 'Thành phần hồ sơ đã nhận'), files);
  const sec = $('#slip');
  sec.hidden = false;
  sec.focus();
  sec.scrollIntoView();
}
$('#slip-print').addEventListener('click', () => {
  document.body.classList.add('print-slip');
  window.print();
});
window.addEventListener('afterprint', () => document.body.classList.remove('print-slip'));
$('#slip-close').addEventListener('click', () => {
  $('#slip').hidden = true;
  $('#slip-body').replaceChildren();
  $('#main').focus();
});

/* ------------------------------------------------------------ start */

updateBatch();
loadSession();

})();
