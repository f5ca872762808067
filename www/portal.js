/* The public portal page: a thin client of /api/v1 (docs/api.md). */
'use strict';

const $ = (sel) => document.querySelector(sel);
const CHANNELS = { online: 'Trực tuyến', desk: 'Tại Bộ phận Một cửa', postal: 'Qua dịch vụ bưu chính công ích' };
const UNITS = { working_day: 'ngày làm việc', working_hour: 'giờ làm việc' };

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'onclick') e.addEventListener('click', v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function size(n) {
  return n >= 1048576 ? (n / 1048576).toFixed(n % 1048576 ? 1 : 0) + ' MB'
                      : Math.ceil(n / 1024) + ' KB';
}

async function api(path, opts) {
  const res = await fetch(path, opts);
  let body = null;
  try { body = await res.json(); } catch (e) { /* not JSON */ }
  return { status: res.status, body };
}

function errorText(r) {
  const e = r.body && r.body.error;
  return e ? e.message + (e.field ? ' (' + e.field + ')' : '') : 'Lỗi không xác định (HTTP ' + r.status + ').';
}

/* who is signed in (A1: the national e-ID); the CSRF token goes with every change */
let session = { authenticated: false };
async function loadSession() {
  const r = await api('/api/v1/session');
  session = r.status === 200 ? r.body : { authenticated: false };
  const box = $('#account');
  box.replaceChildren();
  if (session.authenticated) {
    box.append(el('span', {}, 'Xin chào, ' + session.name + ' '),
      el('button', { onclick: signOut }, 'Đăng xuất'));
    if (session.kind === 'applicant') loadMine();
  } else {
    box.append(el('a', { class: 'signin', href: '/api/v1/auth/eid/start?return_to=/' }, 'Đăng nhập bằng VNeID'));
  }
}
async function signOut() {
  await api('/api/v1/auth/signout', { method: 'POST', headers: { 'X-CSRF-Token': session.csrf_token } });
  $('#mine').hidden = true;
  loadSession();
}
async function loadMine() {
  const r = await api('/api/v1/me/dossiers?page_size=20');
  if (r.status !== 200) return;
  $('#mine').hidden = false;
  const list = $('#my-dossiers');
  list.replaceChildren();
  if (r.body.items.length === 0) list.append(el('li', {}, 'Chưa có hồ sơ nào.'));
  for (const d of r.body.items) {
    list.append(el('li', {}, el('button', { class: 'link', onclick: () => openMine(d.code) }, el('strong', {}, d.code)),
      ' — ' + d.procedure.name + ' — ', el('span', { class: 'status' }, d.status.label)));
  }
  /* back from the payment platform (A8): ?hoso=CODE opens that dossier */
  const back = new URLSearchParams(location.search).get('hoso');
  if (back) { history.replaceState(null, '', location.pathname); openMine(back); }
}

/* one of my dossiers, with its fees (A8: status 6 pays online; once paid, the e-receipt) */
const money = (n) => Number(n).toLocaleString('vi-VN') + ' đồng';
async function openMine(code) {
  const box = $('#my-dossier');
  const r = await api('/api/v1/me/dossiers/' + encodeURIComponent(code));
  box.replaceChildren();
  if (r.status !== 200) { box.append(el('p', { class: 'error' }, errorText(r))); return; }
  const d = r.body, p = d.payment;
  box.append(el('h3', {}, d.code), el('p', {}, d.procedure.name + ' — ', el('span', { class: 'status' }, d.status.label)));
  /* X3: postal pickup and delivery, as the operator reports them */
  for (const o of d.postal || []) {
    box.append(el('p', { class: 'postal' }, (o.kind === 'pickup' ? 'Bưu chính thu gom hồ sơ' : 'Bưu chính chuyển phát kết quả')
      + (o.tracking_number ? ' — số hiệu bưu gửi ' + o.tracking_number : ' — đang gửi yêu cầu') + (o.last_status_text ? ' — ' + o.last_status_text : '')
      + (o.last_status_at ? ' (' + new Date(o.last_status_at).toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' }) + ')' : '')));
  }
  if (!p) return;
  const fees = el('ul', {});
  for (const f of p.fees || []) fees.append(el('li', {}, f.name + ': ' + money(f.amount)));
  box.append(el('h4', {}, 'Phí, lệ phí: ' + money(p.amount)), fees);
  if (p.state === 'paid' && p.receipt) {
    const b = p.receipt;
    box.append(el('dl', { class: 'receipt' },
      el('dt', {}, 'Biên lai điện tử'), el('dd', {}, (b.KyHieuBienLai || '') + ' số ' + (b.SoBienLai || '')),
      el('dt', {}, 'Mã tra cứu'), el('dd', {}, b.MaTraCuuBienLai || ''),
      el('dt', {}, 'Thời điểm nộp'), el('dd', {}, b.paid_at ? new Date(b.paid_at).toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' }) : ''),
      el('dt', {}, 'Xem biên lai'), el('dd', {}, b.DuongDanBienLai ? el('a', { href: b.DuongDanBienLai, target: '_blank', rel: 'noopener' }, b.DuongDanBienLai) : '')));
  } else if (p.due) {
    const msg = el('p', {});
    box.append(el('button', { onclick: async () => {
      msg.textContent = 'Đang chuyển đến nền tảng thanh toán…';
      const s = await api('/api/v1/me/dossiers/' + encodeURIComponent(code) + '/payment',
                          { method: 'POST', headers: { 'X-CSRF-Token': session.csrf_token } });
      if (s.status === 200 && s.body.payment_url) location = s.body.payment_url;
      else msg.textContent = errorText(s);
    } }, 'Thanh toán trực tuyến'), msg);
  }
}

/* status lookup (A4) */
$('#lookup-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const out = $('#lookup-result');
  const code = $('#lookup-code').value.trim();
  const r = await api('/api/v1/dossiers/' + encodeURIComponent(code));
  out.replaceChildren();
  if (r.status !== 200) { out.append(el('p', { class: 'error' }, errorText(r))); return; }
  const d = r.body;
  out.append(el('dl', {},
    el('dt', {}, 'Mã hồ sơ'), el('dd', {}, d.code),
    el('dt', {}, 'Thủ tục'), el('dd', {}, d.procedure.name),
    el('dt', {}, 'Cơ quan'), el('dd', {}, d.agency.name),
    el('dt', {}, 'Người nộp'), el('dd', {}, d.applicant.name),
    el('dt', {}, 'Ngày nộp'), el('dd', {}, new Date(d.submitted_at).toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' })),
    el('dt', {}, 'Trạng thái'), el('dd', { class: 'status' }, d.status.label)));
  const h = el('ol', { class: 'history' });
  for (const e of d.history || []) {
    h.append(el('li', {}, new Date(e.at).toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' }) + ' — ' + e.label));
  }
  out.append(h);
});

/* catalogue */
let page = 1;
async function loadCatalogue() {
  const q = $('#q').value.trim();
  const r = await api('/api/v1/procedures?page=' + page + '&page_size=10' + (q ? '&q=' + encodeURIComponent(q) : ''));
  const list = $('#procedures');
  list.replaceChildren();
  if (r.status !== 200) { list.append(el('li', { class: 'error' }, errorText(r))); return; }
  for (const p of r.body.items) {
    list.append(el('li', {},
      el('button', { class: 'link', onclick: () => openProcedure(p.code) }, p.name),
      el('small', {}, ' ' + p.code + ' · ' + p.field.name + ' · ' + p.agency.name + ' · ' +
         p.processing_time.amount + ' ' + (UNITS[p.processing_time.unit] || '') +
         (p.online_level === 'full' ? ' · Toàn trình' : ' · Một phần'))));
  }
  const pages = Math.max(1, Math.ceil(r.body.total / r.body.page_size));
  const nav = $('#pager');
  nav.replaceChildren(el('span', {}, 'Trang ' + page + '/' + pages + ' (' + r.body.total + ' thủ tục) '));
  if (page > 1) nav.append(el('button', { onclick: () => { page--; loadCatalogue(); } }, '‹ Trước'));
  if (page < pages) nav.append(el('button', { onclick: () => { page++; loadCatalogue(); } }, 'Sau ›'));
}
$('#search-form').addEventListener('submit', (ev) => { ev.preventDefault(); page = 1; loadCatalogue(); });

/* submission (A2, A6): each file's size limit is shown where it is chosen (002 Art.7.1) */
let current = null;
async function openProcedure(code) {
  const r = await api('/api/v1/procedures/' + encodeURIComponent(code));
  if (r.status !== 200) { alert(errorText(r)); return; }
  current = r.body;
  $('#submit').hidden = false;
  const applicant = session.authenticated && session.kind === 'applicant';
  $('#need-signin').hidden = applicant;
  $('#submit-form').hidden = !applicant;
  $('#applicant-name').textContent = applicant ? 'Người nộp: ' + session.name + ' (theo tài khoản định danh điện tử)' : '';
  $('#submit-result').replaceChildren();
  const fees = (current.fees || []).map((f) => f.name + ': ' + f.amount.toLocaleString('vi-VN') + ' đ').join('; ');
  $('#proc-info').replaceChildren(el('h3', {}, current.name),
    el('p', {}, current.agency.name + ' · thời hạn giải quyết ' + current.processing_time.amount + ' ' +
       (UNITS[current.processing_time.unit] || '') + (fees ? ' · ' + fees : '')));
  const comps = $('#components');
  comps.replaceChildren(el('legend', {}, 'Thành phần hồ sơ'));
  for (const c of current.components) {
    comps.append(el('label', {}, c.name + (c.required ? ' (bắt buộc)' : ''),
      el('input', Object.assign({ type: 'file', name: c.code, accept: c.media_types.join(',') }, c.required ? { required: '' } : {})),
      el('small', {}, 'Tối đa ' + size(c.max_size) + '; định dạng: ' + c.media_types.join(', '))));
  }
  const ch = $('#channels');
  ch.replaceChildren();
  current.result_channels.forEach((c, i) => {
    ch.append(el('label', {}, el('input', Object.assign({ type: 'radio', name: 'result_channel', value: c }, i === 0 ? { checked: '' } : {})), CHANNELS[c] || c));
  });
  /* the postal address: result by post (A6) or pickup of the paper dossier (X3) */
  ch.onchange = () => { $('#postal').hidden = $('input[name=result_channel]:checked').value !== 'postal' && !$('input[name=postal_pickup]').checked; };
  $('input[name=postal_pickup]').onchange = ch.onchange;
  ch.onchange();
  $('#submit').scrollIntoView();
}

$('#submit-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  const channel = f.querySelector('input[name=result_channel]:checked').value;
  const app = { procedure: current.code, applicant: {}, form: {}, result_channel: channel };
  if (f.elements['email'].value) app.applicant.email = f.elements['email'].value;
  if (f.elements['phone'].value) app.applicant.phone = f.elements['phone'].value;
  if (f.elements['postal_pickup'].checked) app.postal_pickup = true;
  if (channel === 'postal' || app.postal_pickup) {
    app.postal_address = { street: f.elements['street'].value, district: f.elements['district'].value, province: f.elements['province'].value };
    if (f.elements['ward'].value) app.postal_address.ward = f.elements['ward'].value;
  }
  const data = new FormData();
  data.append('application', new Blob([JSON.stringify(app)], { type: 'application/json' }));
  for (const c of current.components) {
    for (const file of f.querySelector('input[name="' + c.code + '"]').files) data.append(c.code, file, file.name);
  }
  const out = $('#submit-result');
  out.replaceChildren(el('p', {}, 'Đang gửi hồ sơ…'));
  const r = await api('/api/v1/dossiers', { method: 'POST', body: data, headers: { 'X-CSRF-Token': session.csrf_token } });
  out.replaceChildren();
  if (r.status === 202) {
    out.append(el('p', { class: 'ok' }, 'Hồ sơ đã được gửi. Mã hồ sơ: ', el('strong', {}, r.body.code)));
    $('#lookup-code').value = r.body.code;
    loadMine();
  } else {
    out.append(el('p', { class: 'error' }, errorText(r)));
  }
});

loadSession();
loadCatalogue();
