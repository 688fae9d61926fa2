// A real OpenID provider (oidc-provider) on a loopback port, for the bearer-token tests.
//
// It signs in whoever the authorization request names in `login_hint` (no password:
// the tests are the only clients) and issues JWT access tokens (RFC 9068, typ at+jwt)
// for the resource `urn:clearance`, whose audience is `clearance`, the client id too,
// so that an ID token for that client differs from an access token only by its type.
//
// Besides the provider's own routes, three under /_test/ let a test play what real
// providers do: rotate the signing key (the old one leaves the published key set),
// run the provider's clock ahead or behind, and count how often the key set was fetched.
//
// Started as `node provider.mjs`; prints one JSON line, {"issuer": …}, once it listens.

import { generateKeyPairSync } from "node:crypto";
import http from "node:http";

import Provider from "oidc-provider";

const CLIENT = "clearance";
const SECRET = "a client secret for the tests only";
const RESOURCE = "urn:clearance";
const REDIRECT = "http://127.0.0.1/callback";

const realNow = Date.now;
let offsetMs = 0;
Date.now = () => realNow() + offsetMs; // the provider's clock: iat, exp and nbf follow it

let generation = 0;
let jwksFetches = 0;

function signingKey() {
  generation += 1;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid: `key-${generation}`, alg: "RS256", use: "sig" };
}

function provider(issuer, key) {
  const oidc = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT,
        client_secret: SECRET,
        redirect_uris: [REDIRECT],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    jwks: { keys: [key] },
    cookies: { keys: ["cookie key for the tests only"] },
    pkce: { required: () => false },
    findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: "api",
          audience: CLIENT,
          accessTokenTTL: 300,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "RS256" } },
        }),
      },
    },
  });
  oidc.on("server_error", (ctx, error) => console.error(error));
  return oidc;
}

// Signs in the account named by login_hint and grants what was asked, with no page shown.
async function interaction(oidc, req, res) {
  const details = await oidc.interactionDetails(req, res);
  const accountId = details.params.login_hint;
  const grant = new oidc.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope("openid");
  grant.addResourceScope(RESOURCE, "api");
  const grantId = await grant.save();
  await oidc.interactionFinished(req, res, { login: { accountId }, consent: { grantId } });
}

function answer(res, body) {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const server = http.createServer();
server.listen(0, "127.0.0.1", () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  let current = provider(issuer, signingKey());
  let handle = current.callback();
  server.on("request", (req, res) => {
    const url = new URL(req.url, issuer);
    if (url.pathname === "/_test/rotate" && req.method === "POST") {
      current = provider(issuer, signingKey());
      handle = current.callback();
      answer(res, { kid: `key-${generation}` });
    } else if (url.pathname === "/_test/clock" && req.method === "POST") {
      offsetMs = Number(url.searchParams.get("offset")) * 1000;
      answer(res, { offset: offsetMs / 1000 });
    } else if (url.pathname === "/_test/jwks-fetches") {
      answer(res, { count: jwksFetches });
    } else if (url.pathname.startsWith("/interaction/")) {
      interaction(current, req, res).catch((error) => {
        console.error(error);
        res.writeHead(500);
        res.end(String(error));
      });
    } else {
      if (url.pathname === "/jwks") jwksFetches += 1;
      handle(req, res);
    }
  });
  process.stdout.write(`${JSON.stringify({ issuer, client: CLIENT, secret: SECRET, resource: RESOURCE, redirect: REDIRECT})}\n`);
});

for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
