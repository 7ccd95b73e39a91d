// Shared by the package tests: tokens made by hand (no signature needed to decode).
export const EXP = 1_800_000_000;

export function b64url(text) {
  return Buffer.from(text).toString('base64url');
}

export function token(header, claims) {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}.c2ln`;
}

export function rawToken(headerText, claimsText) {
  return `${b64url(headerText)}.${b64url(claimsText)}.c2ln`;
}
