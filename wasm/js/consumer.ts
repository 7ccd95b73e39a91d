// A TypeScript consumer of the package: `tsc --noEmit` fails if the declarations are wrong.
import {
  decodeUnverified,
  isExpired,
  secondsUntilExpiry,
  TokenSession,
  type DecodedToken,
  type JwtClaims,
  type JwtError,
  type SessionEvent,
  type SessionOptions,
} from "jwtkit";

const token: string = "header.payload.signature";
const decoded: DecodedToken = decodeUnverified(token);
const claims: JwtClaims = decoded.claims;
const exp: number | undefined = claims.exp;
const audience: string | string[] | undefined = claims.aud;
const alg: string = decoded.header.alg;
const custom: unknown = claims["roles"];

const expired: boolean = isExpired(token);
const soon: boolean = isExpired(token, { leewaySeconds: 30, now: new Date(), clockOffsetSeconds: -4 });
const left: number = secondsUntilExpiry(token, { now: 1_800_000_000 });

const fromServer: TokenSession = TokenSession.fromAuthResponse(
  { data: { token, expires_in: 180 } },
  { serverDate: "Sun, 29 Nov 2026 05:00:00 GMT", onExpired: async () => "fresh" },
);
const restored = new TokenSession(token, { clockOffsetSeconds: 12, leewaySeconds: 5 });
const header: string = restored.authorizationHeader();
const expiresAt: Date | null = fromServer.expiresAt;
const offset: number = fromServer.clockOffsetSeconds;
const response: Promise<Response> = restored.fetch("/api/v3/secret", { method: "GET" });

const options: SessionOptions = {
  refreshMarginSeconds: 20,
  allowedOrigins: ["https://api.example.com"],
  lockTimeoutMs: 5_000,
  fetch: (input, init) => fetch(input, init),
};
const refreshing = TokenSession.fromAuthResponse(
  { data: { token, refresh_token_delivery: "cookie" } },
  { ...options, serverDate: new Date() },
);
const resumed: Promise<TokenSession> = TokenSession.resume({ refreshUrl: "/api/v3/auth/refresh" });
const access: Promise<string> = refreshing.getAccessToken();
const untilRefresh: number = refreshing.secondsUntilRefresh();
const source: string = refreshing.clockSource;
const delivery: string = refreshing.refreshDelivery;
const ended: boolean = refreshing.ended;
const done: Promise<void> = refreshing.logout();
refreshing.addEventListener("loggedout", (event: SessionEvent) => {
  if (event.type === "loggedout") {
    const reason: "local" | "other-tab" | "revoked" | "reused" | "expired" = event.reason;
    console.log(reason);
  }
});
// @ts-expect-error no such event
refreshing.addEventListener("changed", () => {});
// @ts-expect-error allowedOrigins is a list
TokenSession.fromAuthResponse({ token }, { allowedOrigins: "https://api.example.com" });

function describe(error: unknown): string {
  const e = error as JwtError;
  return `${e.code} ${e.status ?? ""} ${e.message}`;
}

// @ts-expect-error the token must be a string
decodeUnverified(42);
// @ts-expect-error leewaySeconds is a number
isExpired(token, { leewaySeconds: "30" });
// @ts-expect-error the auth response needs a token
TokenSession.fromAuthResponse({ data: {} });

export { resumed, access, untilRefresh, source, delivery, ended, done };
export { exp, audience, alg, custom, expired, soon, left, header, expiresAt, offset, response, describe };
