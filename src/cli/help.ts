/** The `tokenward --help` text. */
export const USAGE = `Usage: tokenward <command> [options]

Commands:
  migrate             Apply pending database migrations and print the schema version.
                      PostgreSQL when TOKENWARD_DATABASE_URL is set, else the embedded
                      store in TOKENWARD_DATA_DIR (default ./.tokenward).
  keys list [--json]  List the signing keys: kid, algorithm, state, created, updated,
                      and when the next transition is due. Never prints private keys.
  keys rotate [--now] One rotation step (run it again later for the next one):
                      no "next" key: publish one (in JWKS, not signing yet);
                      "next" published long enough: promote it to "current", the old
                      current key becomes "retiring" (still verifies, then retired).
                      --now publishes and promotes in one go (see the warning it prints).
  keys prune          Retire "retiring" keys whose tokens have all expired (every
                      server also does this when it reloads keys).
  users list [--limit N] [--email-contains TEXT] [--json]
                      List users (id, email, name, created), by email; at most N
                      (default 100); TEXT filters emails (case-insensitive).
  users show <email|id> [--json]
                      One user: created, TOTP on/off, active sessions, last events.
  users revoke-sessions <email|id> [--json]
                      Revoke every session of the user (like their "log out
                      everywhere", reason admin): refresh tokens stop at once, every
                      node refuses the access tokens within 1 s; recorded as an event.
  users disable <email|id> [--yes] [--json]
                      Disable the account: every session ends (every node refuses
                      its tokens within 1 s), and login, refresh and token requests
                      answer 403 account_disabled until it is enabled. Asks first
                      unless --yes.
  users enable <email|id> [--yes] [--json]
                      Let a disabled account sign in again.
  users delete <email|id> [--yes] [--json]
                      Delete the account and everything of it in one transaction
                      (credentials, sessions, links, identity links, its own events;
                      security events stay without the user). Asks for the email
                      unless --yes. Cannot be undone.
  sessions list <email|id> [--limit N] [--json]
                      A user's sessions, newest first: device, IP, created, last
                      active, state (active / revoked with reason / expired).
  sessions revoke <session-id> [--json]
                      Revoke one session (reason admin), same fan-out as above.
  audit <url> [--origin ORIGIN] [--no-signup | --email E --password P]
        [--insecure] [--timeout SECONDS] [--json]
                      Check a running deployment from outside against the contract:
                      HTTPS, /healthz, JWKS (public keys only, cacheable), security
                      headers, no-store on /auth, problem+json 404/405; then, with a
                      throwaway account it signs up (or the --email account it logs
                      into): cookie names and attributes, no token in JSON bodies,
                      cross-site POST refused, forged JWTs (alg none, flipped
                      signature) refused, refresh rotation, logout clearing cookies
                      and revoking the access token. One PASS/FAIL/WARN line per
                      check and a summary; exit 1 on any FAIL.
                      --origin: the app's origin if it differs from <url> (sent as
                      Origin on legitimate requests); --insecure: accept a TLS
                      certificate that does not verify; --password may also come from
                      TOKENWARD_AUDIT_PASSWORD; --timeout per request (default 10).
  serve [--port N] [--host ADDRESS] [--static DIR] [--shutdown-timeout SECONDS]
                      The production server: Tokenward's routes only (no demo),
                      configured from TOKENWARD_* (and PORT, HOST; the flags win).
                      --static DIR also serves an SPA build from the same origin:
                      its files, index.html for client-side routes; never /auth/*,
                      /.well-known/*, /healthz or /metrics. Prints one start-up
                      line; on SIGTERM/SIGINT stops accepting, lets requests in
                      flight finish (at most --shutdown-timeout, default 10 s),
                      closes the store and exits 0.
  help                Show this text.

Options:
  -h, --help          Show this text.
  --version           Print the version.
  --json              Machine-readable output (keys list, users, sessions, audit).
  -y, --yes           Do not ask before users disable|enable|delete.

Configuration comes from the same environment variables as the server (TOKENWARD_*) and
from tokenward.config.json in the current directory; run the CLI with the servers' settings
(TOKENWARD_SECRET, TOKENWARD_ACCESS_TTL and TOKENWARD_ALGORITHM matter for keys;
TOKENWARD_REDIS_URL lets revocations reach the nodes at once instead of by polling).
The users and sessions commands never print password hashes, TOTP secrets or tokens.

Exit codes: 0 success, 1 failure (bad configuration, database error, no such user or
session, an audit check failed, a confirmation not given), 2 usage error.
`;
