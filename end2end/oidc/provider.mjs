// A real OpenID Connect provider (npm oidc-provider) for the browser tests and the Rust sign-in
// tests, on loopback. Any login/password is accepted (devInteractions); the account's groups come
// from ACCOUNTS. Settings (environment):
//   OIDC_PORT, OIDC_RP                 where it listens; the relying party's base URL
//   OIDC_FRESH_KEY=1                   sign with a new RSA key (a new `kid`), as after a key rotation;
//                                      otherwise oidc-provider's fixed development key
//   OIDC_CLOCK_BEHIND_SECONDS=N        the provider's clock runs N seconds slow, so the id_tokens
//                                      it issues are already expired (with OIDC_IDTOKEN_TTL < N)
//   OIDC_IDTOKEN_TTL=N                 id_token lifetime in seconds (default 3600)
// Clients: `drydock` (the relying party) and `other-client` (another application of the same
// provider, with the same redirect URI: its tokens carry another audience).
import Provider from "oidc-provider";
import { generateKeyPairSync, randomUUID } from "node:crypto";

const port = Number(process.env.OIDC_PORT ?? 3918);
const issuer = `http://127.0.0.1:${port}`;
const rp = process.env.OIDC_RP ?? "http://127.0.0.1:3919";

const behind = Number(process.env.OIDC_CLOCK_BEHIND_SECONDS ?? 0);
if (behind > 0) {
  const realNow = Date.now;
  Date.now = () => realNow() - behind * 1000;
}

let jwks;
if (process.env.OIDC_FRESH_KEY === "1") {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  jwks = { keys: [{ ...privateKey.export({ format: "jwk" }), kid: randomUUID(), use: "sig", alg: "RS256" }] };
}

const client = (client_id, client_secret) => ({
  client_id,
  client_secret,
  redirect_uris: [`${rp}/auth/callback`],
  post_logout_redirect_uris: [rp],
  grant_types: ["authorization_code"],
  response_types: ["code"],
  token_endpoint_auth_method: "client_secret_basic",
});

const ACCOUNTS = {
  "dev-a": ["team-a-dev"],
  "sec": ["security-team"],
  "nobody": [],
};

const provider = new Provider(issuer, {
  clients: [client("drydock", "drydock-test-secret"), client("other-client", "other-test-secret")],
  ...(jwks ? { jwks } : {}),
  ttl: { IdToken: Number(process.env.OIDC_IDTOKEN_TTL ?? 3600) },
  pkce: { required: () => true },
  scopes: ["openid", "profile", "email", "groups"],
  claims: {
    openid: ["sub"],
    profile: ["name", "preferred_username"],
    email: ["email"],
    groups: ["groups"],
  },
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ["drydock-e2e-cookie-key"] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          preferred_username: id,
          name: id,
          email: `${id}@example.test`,
          groups: ACCOUNTS[id] ?? [],
        };
      },
    };
  },
});

provider.listen(port, "127.0.0.1", () => console.log(`oidc-provider listening on ${issuer}`));
