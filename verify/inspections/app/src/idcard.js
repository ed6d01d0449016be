// Resident identity numbers (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check character.
// Checked on the device so a mistyped number is caught on site; the number itself goes only into
// a POST body to the server, never into a URL, a log line or the page (shown masked).

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";

export function normalizeId(text) {
  return String(text || "").normalize("NFKC").replace(/\s+/g, "").toUpperCase();
}

export function checkIdNumber(text) {
  const id = normalizeId(text);
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const sum = WEIGHTS.reduce((acc, wt, i) => acc + wt * Number(id[i]), 0);
  if (CHECK[sum % 11] !== id[17]) return false;
  const [y, m, d] = [Number(id.slice(6, 10)), Number(id.slice(10, 12)), Number(id.slice(12, 14))];
  const born = new Date(Date.UTC(y, m - 1, d));
  return y >= 1900 && born.getUTCMonth() === m - 1 && born.getUTCDate() === d && born.getTime() <= Date.now();
}

export function maskId(text) {
  const id = normalizeId(text);
  return id.length === 18 ? `${id.slice(0, 6)}${"*".repeat(8)}${id.slice(14)}` : "*".repeat(id.length);
}

// A name as the server masks it for the public (verify/service.py mask_name): 张* , 欧*锋.
export function maskName(name) {
  const chars = Array.from(name || "");
  if (chars.length <= 1) return chars.join("");
  if (chars.length === 2) return `${chars[0]}*`;
  return chars[0] + "*".repeat(chars.length - 2) + chars[chars.length - 1];
}
