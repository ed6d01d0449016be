// The app's own words, Chinese first. Verdict reasons are not here: they come from the server's
// verify/messages.py through GET /api/v1/verdict-messages, so the app and the server say the same.

const WORDS = {
  app: ["安证 · 现场核验", "anzheng inspector"],
  online: ["在线", "Online"],
  offline: ["离线", "Offline"],
  scan: ["核验", "Check"],
  record: ["检查记录", "Record"],
  queue: ["待上传", "Uploads"],
  settings: ["设置", "Settings"],
  scanCamera: ["扫描二维码", "Scan QR code"],
  stopCamera: ["停止扫描", "Stop scanning"],
  cameraHint: ["把证书二维码放进框内，保持不动", "Hold the certificate's QR code inside the frame"],
  cameraFailed: ["无法打开摄像头：", "Cannot open the camera: "],
  serialLabel: ["证书编号", "Certificate serial"],
  serialPlaceholder: ["如 7K3M-9QX2-HD5T-WR4A", "e.g. 7K3M-9QX2-HD5T-WR4A"],
  lookUp: ["查询编号", "Look up"],
  pasteLabel: ["粘贴扫码内容", "Paste scanned text"],
  pastePlaceholder: ["把扫码枪或其他应用读到的内容粘贴到这里", "Paste what a scanner or another app read"],
  verify: ["核验", "Verify"],
  noCard: ["无证人员登记", "Person without a card"],
  listsAge: ["名单更新于", "Lists updated"],
  listsNone: ["尚未下载信任名单，联网后自动下载", "No trust list yet: it downloads when online"],
  listsStale: ["名单已过期", "Lists out of date"],
  staleValidLead: ["签名有效，但本机名单已过期：无法确认证书现在仍然有效。", "The signature is valid, but this device's lists are out of date: it cannot confirm the certificate is still valid."],
  listsStaleLong: ["本机名单已超过 {h} 小时未更新：以下结论可能已经过时，请尽快联网更新。",
    "This device's lists are more than {h} h old: this answer may be out of date. Go online to update."],
  refreshLists: ["更新名单", "Update lists"],
  refreshed: ["名单已更新", "Lists updated"],
  refreshFailed: ["名单更新失败：", "Could not update the lists: "],
  ago: ["前", "ago"],
  justNow: ["刚刚", "just now"],
  minutes: ["分钟", "min"],
  hours: ["小时", "h"],
  days: ["天", "d"],
  site: ["检查地点", "Site"],
  noSite: ["未选择地点", "No site chosen"],
  riskHigh: ["高风险", "high risk"],
  riskNormal: ["一般", "normal"],
  pending: ["条待上传", "waiting to upload"],
  offlineCheck: ["离线核验", "Offline check"],
  onlineCheck: ["在线核验", "Online check"],
  compare: ["请与持证人身份证核对", "Compare with the holder's identity card"],
  name: ["姓名", "Name"],
  idNumber: ["身份证号", "ID number"],
  category: ["培训类别", "Category"],
  issuer: ["发证机构", "Issued by"],
  serial: ["证书编号", "Serial"],
  validUntil: ["有效期至", "Valid until"],
  reviewDue: ["复审日期", "Review due"],
  noReview: ["无需复审，到期换证", "No review: renewed at expiry"],
  why: ["核验说明", "Why"],
  holderQuestion: ["持证人与身份证是否一致？", "Does the holder match the identity card?"],
  match: ["一致", "Matches"],
  mismatch: ["不一致", "Does not match"],
  taskSeen: ["现场作业", "Work seen"],
  chooseTask: ["选择作业类型", "Choose the work"],
  addToRecord: ["记入检查记录", "Add to the record"],
  added: ["已记入检查记录", "Added to the record"],
  needTask: ["请先选择现场作业类型", "Choose the work seen first"],
  next: ["下一个", "Next"],
  back: ["返回", "Back"],
  queued: ["已保存在本机，联网后自动上传", "Saved on this device; uploads when online"],
  serverSays: ["服务器核验结果", "Server's answer"],
  serverShort: ["服务器", "Server"],
  changed: ["与离线结论不同", "differs from the offline answer"],
  idLabel: ["身份证号码（18位）", "Identity number (18 characters)"],
  idInvalid: ["身份证号码校验不通过，请核对", "The identity number's check digit is wrong: check it"],
  idValid: ["号码格式正确", "Number checks out"],
  nocardHint: ["现场发现无证作业人员时，登记其身份证号和所见作业。号码只发送给服务器，加密保存，页面只显示前6位和后4位。",
    "For a person found working without any certificate: record the identity number and the work seen. The number is sent only to the server, stored encrypted, and shown masked here."],
  recordTitle: ["本次现场检查", "This inspection"],
  startedAt: ["开始时间", "Started"],
  officers: ["同行执法人员", "Accompanying officers"],
  officersHint: ["每行一人：姓名 执法证号", "One per line: name badge"],
  checks: ["检查项", "Checks"],
  noChecks: ["还没有检查项：核验证书或登记无证人员后记入。", "No checks yet: verify a certificate or record a person without one."],
  submitRecord: ["提交检查记录", "Submit the record"],
  newRecord: ["开始新的检查", "Start a new inspection"],
  needSite: ["请先选择检查地点", "Choose the site first"],
  needKey: ["需要先登录（输入执法 API 密钥）才能上传", "Sign in (enter the inspector's API key) to upload"],
  recordQueued: ["检查记录已保存，联网后提交", "Record saved; it is submitted when online"],
  recordSent: ["检查记录已提交", "Record submitted"],
  recordWaiting: ["服务器暂不支持提交检查记录，已保存在本机，稍后重试", "The server does not take inspection records yet; kept on this device, will retry"],
  cardCheck: ["持证", "Card"],
  noCardCheck: ["无证", "No card"],
  holderOk: ["人证一致", "holder matches"],
  holderBad: ["人证不一致", "holder mismatch"],
  holderUnknown: ["未核对", "not compared"],
  signIn: ["登录", "Sign in"],
  apiKey: ["执法 API 密钥", "Inspector's API key"],
  apiKeyHint: ["只需输入一次，保存在本机。不登录也能核验，上传扫码记录需要登录。",
    "Entered once and kept on this device. Checks work without it; uploading needs it."],
  save: ["保存", "Save"],
  signOut: ["退出登录", "Sign out"],
  signedIn: ["已登录", "Signed in"],
  notSignedIn: ["未登录", "Not signed in"],
  keyRejected: ["密钥无效或已停用", "The key is not valid"],
  regulatorKey: ["监管机关公钥（首次下载时固定）", "Regulator's key (pinned at first download)"],
  resetPin: ["重新固定公钥", "Re-pin the key"],
  resetPinConfirm: ["只有在监管机关正式更换密钥后才应这样做。确定？", "Do this only after the regulator has officially changed its key. Continue?"],
  pinMismatch: ["名单签名与本机固定的监管机关公钥不符，已拒绝。", "The lists are not signed by the pinned regulator key: refused."],
  cryptoBackend: ["签名核验方式", "Signature checks by"],
  maxAge: ["名单有效时长", "Lists stay current for"],
  position: ["记录位置", "Record position"],
  positionHint: ["扫码时附上手机定位（需授权）", "Attach the phone's position to scans (asks permission)"],
  language: ["语言", "Language"],
  uploadNow: ["立即上传", "Upload now"],
  uploaded: ["已上传", "uploaded"],
  waiting: ["等待上传", "waiting"],
  rejected: ["被拒绝", "refused"],
  queueEmpty: ["没有待上传的记录", "Nothing waiting to upload"],
  clockOffset: ["手机时钟偏差", "Device clock offset"],
  seconds: ["秒", "s"],
  serialOffline: ["离线状态下只能查本机名单：", "Offline, only this device's lists can be consulted: "],
  serialRevoked: ["该编号在撤销名单中。", "This serial is on the revocation list."],
  serialSuspended: ["该编号在暂停名单中。", "This serial is on the suspension list."],
  serialClear: ["该编号不在本机的撤销、暂停名单中。没有二维码无法核对真伪，请扫描证书二维码。",
    "This serial is not on this device's revocation or suspension lists. Without the QR code its authenticity cannot be checked: scan the code."],
  serialBad: ["不是有效的证书编号（16位，如 7K3M-9QX2-HD5T-WR4A）", "Not a certificate serial (16 characters, e.g. 7K3M-9QX2-HD5T-WR4A)"],
  serialNotFound: ["登记库中没有这个编号", "The registry has no certificate with this serial"],
  serialNeedKey: ["在线查询编号需要登录", "Looking up a serial online needs sign-in"],
  noLists: ["本机还没有名单，无法离线核验；请先联网一次。", "No lists on this device: go online once before checking offline."],
};

export const RESULT_TITLES = {
  valid: ["有效", "VALID"], forged: ["伪造", "FORGED"], not_ours: ["非本系统证书", "NOT OURS"],
  unregistered: ["未登记", "UNREGISTERED"], revoked: ["已撤销", "REVOKED"], suspended: ["已暂停", "SUSPENDED"],
  expired: ["已过期", "EXPIRED"], review_overdue: ["逾期未复审", "REVIEW OVERDUE"],
  issuer_not_accredited: ["发证机构无资质", "ISSUER NOT ACCREDITED"], suspect: ["存疑", "SUSPECT"],
};

export const RESULT_LEADS = {
  valid: ["证书真实有效，可凭证上岗。", "Genuine and valid: the holder is qualified for this work."],
  forged: ["不是真实证书，不能凭它上岗。", "Not a genuine certificate. It does not qualify anyone."],
  not_ours: ["这个二维码不是安证证书。如是其他证件，请到其签发方核验。", "This code is not an anzheng certificate. Check other documents where they were issued."],
  unregistered: ["签名正确，但登记库中没有这张证书。", "Correctly signed but unknown to the registry."],
  revoked: ["证书已被撤销，不能凭它上岗。", "Revoked: it does not qualify its holder."],
  suspended: ["证书暂停使用中，不能凭它上岗。", "Suspended: it does not qualify its holder for now."],
  expired: ["证书已过有效期。", "The certificate has expired."],
  review_overdue: ["证书已过复审期限，须复审合格后才能上岗。", "Review overdue: the holder must pass the review before working."],
  issuer_not_accredited: ["发证时培训机构没有该类别资质，证书无效。", "The body was not accredited for this category when it issued the certificate."],
  suspect: ["证书存在疑点，请勿凭它上岗，并报告。", "Findings stand against this certificate: do not rely on it."],
};

let lang = "zh";

export function setLang(value) {
  lang = value === "en" ? "en" : "zh";
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
}

export function getLang() {
  return lang;
}

export function w(key, vars = {}) {
  const pair = WORDS[key];
  let text = pair ? pair[lang === "en" ? 1 : 0] : key;
  for (const [k, v] of Object.entries(vars)) text = text.replace(`{${k}}`, v);
  return text;
}

export function pick(pair) {
  return pair ? pair[lang === "en" ? 1 : 0] : "";
}
