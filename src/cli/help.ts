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
  serve               Start the Tokenward server (PORT, HOST, TOKENWARD_*).
  help                Show this text.

Options:
  -h, --help          Show this text.
  --version           Print the version.

Configuration comes from the same environment variables as the server (TOKENWARD_*) and
from tokenward.config.json in the current directory; run the CLI with the servers' settings
(TOKENWARD_SECRET, TOKENWARD_ACCESS_TTL and TOKENWARD_ALGORITHM matter for keys).

Exit codes: 0 success, 1 failure (bad configuration, database error), 2 usage error.
`;
