/**
 * Failures of the store itself, named once where every query passes (the Kysely driver), so a
 * poll or a delivery that meets one says "the store", and where it is, instead of blaming the
 * mail server: a full disk (DISK_FULL) or a store that does not answer (STORE_FAILED: PostgreSQL
 * restarted, stopped or unreachable). Other errors (a constraint, a bug) pass through unchanged,
 * so code that reads a driver's own error code still sees it.
 */
import type { DatabaseConnection, Dialect, Driver, TransactionSettings } from 'kysely';
import { diskFullError, isDiskFull } from '../model/disk-full.ts';
import { PostroomError } from '../model/errors.ts';

/** Socket failures on the way to PostgreSQL (the pool reports them with Node's codes). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * SQLSTATE classes and codes meaning the server went away: 08 (connection exception),
 * 57P01..57P03 (admin_shutdown, crash_shutdown, cannot_connect_now: a restart).
 */
const GONE_SQLSTATE = /^(08...|57P0[1-3])$/;
/** node-postgres says these in words, without a code, when a connection dies under it or none comes in time. */
const GONE_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection/i;

const KEPT = 'Nothing was lost: no email is acknowledged on the server and no message marked delivered until the store has it';

/** `where` names the store for people: its directory, or host:port/database (never credentials). */
export function storeError(error: unknown, where: string): unknown {
  if (error instanceof PostroomError) return error;
  if (isDiskFull(error)) return diskFullError(error, 'the store', where, KEPT);
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  if ((typeof code === 'string' && (UNREACHABLE_CODES.has(code) || GONE_SQLSTATE.test(code))) || GONE_MESSAGES.test(text)) {
    return new PostroomError('STORE_FAILED', `the store at ${where} does not answer (${text})`, {
      cause: error,
      hint: `${KEPT}; workers reconnect by themselves and go on once it answers again. Check that the database is running and reachable`,
    });
  }
  return error;
}

/** The dialect with every failure of its driver and connections passed through `storeError`. */
export function namingStoreErrors(dialect: Dialect, where: string): Dialect {
  return {
    createDriver: () => namingDriver(dialect.createDriver(), where),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
}

function namingDriver(driver: Driver, where: string): Driver {
  const named = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw storeError(error, where);
    }
  };
  const inner = new WeakMap<DatabaseConnection, DatabaseConnection>();
  const unwrap = (connection: DatabaseConnection): DatabaseConnection => inner.get(connection) ?? connection;
  return {
    init: () => named(() => driver.init()),
    async acquireConnection() {
      const connection = await named(() => driver.acquireConnection());
      const wrapped: DatabaseConnection = {
        executeQuery: (query) => named(() => connection.executeQuery(query)),
        async *streamQuery(query, chunkSize) {
          try {
            yield* connection.streamQuery(query, chunkSize);
          } catch (error) {
            throw storeError(error, where);
          }
        },
      };
      inner.set(wrapped, connection);
      return wrapped;
    },
    beginTransaction: (connection, settings: TransactionSettings) => named(() => driver.beginTransaction(unwrap(connection), settings)),
    commitTransaction: (connection) => named(() => driver.commitTransaction(unwrap(connection))),
    rollbackTransaction: (connection) => named(() => driver.rollbackTransaction(unwrap(connection))),
    releaseConnection: (connection) => driver.releaseConnection(unwrap(connection)),
    destroy: () => driver.destroy(),
  };
}
