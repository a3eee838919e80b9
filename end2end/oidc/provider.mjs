// A real OpenID Connect provider (npm oidc-provider) for the browser tests, on loopback.
// Any login/password is accepted (devInteractions); the account's groups come from ACCOUNTS.
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT ?? 3918);
const issuer = `http://127.0.0.1:${port}`;
const rp = process.env.OIDC_RP ?? "http://127.0.0.1:3919";

const ACCOUNTS = {
  "dev-a": ["team-a-dev"],
  "sec": ["security-team"],
  "nobody": [],
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "drydock",
      client_secret: "drydock-test-secret",
      redirect_uris: [`${rp}/auth/callback`],
      post_logout_redirect_uris: [rp],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
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
