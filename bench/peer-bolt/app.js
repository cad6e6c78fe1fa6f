// app.js — bench/slack's peer: a Bolt 5 app answering `/job show REF` and `/job new TITLE`
// on ctgw's own database and tables, the way a production Bolt app with a mysql2 pool would,
// so that bench/slack can measure ctgw and Bolt side by side on the same machine.
//
//   node app.js            (bench/slack starts it; everything comes from the environment)
//
// Environment: BOLT_PORT (listens on 127.0.0.1 only), BOLT_SIGNING_SECRET_FILE, BOLT_DB_SOCKET,
// BOLT_DB_USER, BOLT_DB_PASSWORD_FILE, BOLT_DB_NAME, BOLT_POOL (mysql2 pool size, default 8),
// BOLT_APP_URL (the link after a ref, like ctgw's app_url), BOLT_PATH (default /hooks/slack).
//
// The default HTTPReceiver verifies Slack's signature (and its 5-minute window); the command
// listener does the database work first and then ack()s with the ephemeral result, so the
// HTTP answer carries the result exactly as ctgw's does. The queries mirror ctgw's Slack
// adapter (adapters/slack/slack.c) and core (gateway/core/job_views.c, jobs.c): the company
// of the workspace through integrations (cached 30 s, as ctgw's tenant cache does), the caller
// through users.slack_user_id, the same role checks, the same reply text; `new` takes the
// company's next number from job_ref_counters, inserts the job (source slack) and its
// job_events 'created' row in one transaction. What it does not do, unlike ctgw, is store the
// command durably before applying it.
'use strict';

const fs = require('node:fs');
const { App, LogLevel } = require('@slack/bolt');
const mysql = require('mysql2/promise');

function env(name, fallback) {
  const v = process.env[name];
  if (v !== undefined && v !== '') return v;
  if (fallback !== undefined) return fallback;
  console.error(`peer-bolt: ${name} is not set`);
  process.exit(2);
}

// A secret file: one trailing newline dropped, as ctgw reads `file:` secrets.
function readSecret(path) {
  return fs.readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

const PORT = Number(env('BOLT_PORT'));
const APP_URL = env('BOLT_APP_URL', '').replace(/\/+$/, '');
const TENANT_TTL_MS = 30000; // ctgw's tenants.c keeps a company lookup 30 s
const TITLE_CHARS = 300;
const REPLY_MAX = 3800; // bytes; Slack shows up to 4000 characters

const pool = mysql.createPool({
  socketPath: env('BOLT_DB_SOCKET'),
  user: env('BOLT_DB_USER'),
  password: readSecret(env('BOLT_DB_PASSWORD_FILE')),
  database: env('BOLT_DB_NAME'),
  connectionLimit: Number(env('BOLT_POOL', '8')),
  charset: 'utf8mb4_unicode_ci',
  dateStrings: true,
  supportBigNumbers: true,
});

// ------------------------------------------------------------------ Slack text

const unknownWorkspace = "This Slack workspace isn't connected to CanTicket.";
const notApplied = 'Sorry, that command could not be applied.';

// Users' words: Slack's three entities, as gw_slack_escape_append does.
function esc(s) {
  return String(s ?? '').replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

// Slack's entities decoded, &amp; last so "&amp;lt;" stays the literal text "&lt;".
function unesc(s) {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

// The next blank-separated word of TEXT from POS: [word, rest] or null (gw_slack_next_word).
function nextWord(text, cap) {
  const m = /^[ \t]*([^ \t]+)[ \t]*/.exec(text);
  if (!m || Buffer.byteLength(m[1]) >= cap) return null;
  return [m[1], text.slice(m[0].length)];
}

// CT-000123, ct-123 or 123 as CT-000123; null when it is not a ref (gw_job_ref_normalise).
function normaliseRef(word) {
  const m = /^(?:[Cc][Tt]-)?([0-9]{1,18})$/.exec(word);
  if (!m) return null;
  const n = BigInt(m[1]);
  if (n === 0n) return null;
  return `CT-${n.toString().padStart(6, '0')}`;
}

// At most MAX bytes of S, never ending inside a UTF-8 character.
function clipBytes(s, max) {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= max) return s;
  let n = max;
  while (n > 0 && (b[n] & 0xc0) === 0x80) n--;
  return b.subarray(0, n).toString('utf8');
}

function link(ref) {
  return APP_URL ? ` <${esc(`${APP_URL}/jobs/${ref}`)}|open>` : '';
}

const usages = {
  new: 'new TITLE [| DESCRIPTION]',
  show: 'show REF',
  list: 'list [open|mine|all]',
  comment: 'comment REF TEXT',
  status: 'status REF new|open|in_progress|on_hold|done|closed',
  close: 'close REF',
  reopen: 'reopen REF',
  assign: 'assign REF @user|me|EMAIL',
  time: 'time REF DURATION [NOTE]  (90m, 1h30m, 1.5h, 2h)',
};

function usage(command, verb) {
  return `Usage: \`${command} ${usages[verb]}\``;
}

function help(command) {
  const lines = Object.values(usages).map((u) => `\n\`${command} ${u}\``);
  return `Usage:${lines.join('')}\nREF is CT-000123, ct-123 or 123.`;
}

// ------------------------------------------------------------------ the database

// The workspace's company: the integration row Slack's account id names, kept 30 s.
const tenants = new Map();

async function companyOf(account) {
  const now = Date.now();
  const hit = tenants.get(account);
  if (hit && hit.expires > now) return hit.companyId;
  const [rows] = await pool.execute(
    "SELECT company_id, status FROM integrations WHERE provider = 'slack' AND external_id = ?",
    [account],
  );
  // A disabled integration is switched off on purpose; ctgw keeps a disconnected one's
  // commands for later, which a Bolt app has no way to do: both answer as unknown here.
  const companyId = rows.length === 1 && rows[0].status === 'active' ? rows[0].company_id : 0;
  if (tenants.size > 512) tenants.clear();
  tenants.set(account, { companyId, expires: now + TENANT_TTL_MS });
  return companyId;
}

async function caller(db, companyId, slackUserId) {
  const [rows] = await db.execute(
    'SELECT id, role, COALESCE(client_id, 0) AS client_id FROM users ' +
      'WHERE company_id = ? AND slack_user_id = ? AND deleted_at IS NULL',
    [companyId, slackUserId],
  );
  return rows.length === 1 ? rows[0] : null;
}

const staff = (role) => role === 'admin' || role === 'manager' || role === 'staff';

function maySee(me, job) {
  if (staff(me.role)) return true;
  if (me.role === 'contractor') return String(job.assignee_user_id) === String(me.id);
  return me.role === 'client' && String(job.client_id) !== '0' && String(job.client_id) === String(me.client_id);
}

// A refusal: the answer, and an audit_log row as ctgw writes one.
async function refuse(db, companyId, me, slackUserId, verb, what, ref, why) {
  const reason = `${me.role} may not ${what}${ref ? ` ${ref}` : ''}`;
  await db.execute(
    'INSERT INTO audit_log (company_id, kind, endpoint, reason, actor, detail) ' +
      "VALUES (?, 'slack_command_refused', 'slack', ?, ?, JSON_OBJECT('command', ?, 'ref', ?, 'user_id', ?))",
    [companyId, reason, slackUserId, verb, ref ?? null, me.id],
  );
  return `You may not ${what}${ref ? ` ${ref}` : ''}: ${why}`;
}

const viewSql =
  'SELECT j.id, COALESCE(j.assignee_user_id, 0) AS assignee_user_id, ' +
  'COALESCE(j.client_id, 0) AS client_id, j.title, j.status, j.priority, u.name AS assignee, ' +
  "c.name AS client, DATE_FORMAT(j.due_at, '%Y-%m-%d') AS due_on, j.billing_status FROM jobs j " +
  'LEFT JOIN users u ON u.company_id = j.company_id AND u.id = j.assignee_user_id ' +
  'LEFT JOIN clients c ON c.company_id = j.company_id AND c.id = j.client_id ' +
  'WHERE j.company_id = ? AND j.ref = ?';

const commentsSql =
  "SELECT COALESCE(u.name, ct.name, jc.author_label, '') AS author, jc.body FROM job_comments jc " +
  'LEFT JOIN users u ON u.company_id = jc.company_id AND u.id = jc.author_user_id ' +
  'LEFT JOIN contacts ct ON ct.company_id = jc.company_id AND ct.id = jc.author_contact_id ' +
  "WHERE jc.company_id = ? AND jc.job_id = ? AND jc.visibility = 'public' " +
  'ORDER BY jc.id DESC LIMIT 3';

async function cmdShow(cmd, companyId, me, rest) {
  const w = nextWord(rest, 40);
  const ref = w && normaliseRef(w[0]);
  if (!ref) return usage(cmd.command, 'show');
  const [jobs] = await pool.execute(viewSql, [companyId, ref]);
  if (jobs.length !== 1) return `Job ${ref} not found.`;
  const j = jobs[0];
  if (!maySee(me, j)) {
    const why =
      me.role === 'contractor' ? 'contractors see only the jobs assigned to them.' : 'clients see only their own jobs.';
    return refuse(pool, companyId, me, cmd.user_id, 'show', 'view', ref, why);
  }
  let out =
    `*${ref}* ${esc(j.title)}\nStatus: ${j.status} | Priority: ${j.priority} | Assignee: ` +
    `${esc(j.assignee ?? 'unassigned')}\nClient: ${esc(j.client ?? 'none')} | Due: ${j.due_on ?? 'none'}` +
    ` | Billing: ${j.billing_status}`;
  const [comments] = await pool.execute(commentsSql, [companyId, j.id]);
  for (const c of comments) out += `\n> ${esc(c.author)}: ${esc(clipBytes(c.body ?? '', 300))}`;
  return out + link(ref);
}

// TITLE | DESCRIPTION: split at the first '|' outside Slack's <…> tokens.
function splitTitle(rest) {
  let depth = 0;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i];
    if (ch === '<') depth++;
    else if (ch === '>' && depth > 0) depth--;
    else if (ch === '|' && depth === 0) return [rest.slice(0, i), rest.slice(i + 1)];
  }
  return [rest, null];
}

const plain = (s) => unesc(s).replace(/^[ \t\n]+|[ \t\n]+$/g, '');

async function cmdNew(cmd, companyId, me, rest) {
  if (me.role === 'contractor')
    return refuse(pool, companyId, me, cmd.user_id, 'new', 'create jobs', null, 'contractors work on the jobs assigned to them.');
  const [rawTitle, rawDesc] = splitTitle(rest);
  const title = plain(rawTitle);
  const desc = rawDesc === null ? null : plain(rawDesc);
  const chars = [...title].length;
  if (chars < 1 || chars > TITLE_CHARS) return usage(cmd.command, 'new');
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    try {
      // The company's next number, taken under the counter row's lock (jobs.c next_number).
      const [counter] = await conn.execute(
        'INSERT INTO job_ref_counters (company_id, last_number) VALUES (?, LAST_INSERT_ID(1)) ' +
          'ON DUPLICATE KEY UPDATE last_number = LAST_INSERT_ID(last_number + 1)',
        [companyId],
      );
      const number = counter.insertId;
      if (!number) throw new Error('the job counter returned no number');
      const [job] = await conn.execute(
        'INSERT INTO jobs (company_id, number, title, description, status, priority, source, ' +
          "client_id, created_by_user_id) VALUES (?, ?, ?, ?, 'new', 'normal', 'slack', ?, ?)",
        [companyId, number, title, desc || null, me.role === 'client' ? me.client_id : null, me.id],
      );
      const ref = `CT-${String(number).padStart(6, '0')}`;
      await conn.execute(
        'INSERT INTO job_events (company_id, job_id, kind, detail, source, actor_user_id) ' +
          "VALUES (?, ?, 'created', ?, 'slack', ?)",
        [companyId, job.insertId, JSON.stringify({ ref, status: 'new', priority: 'normal' }), me.id],
      );
      await conn.commit();
      return `Created ${ref}: ${esc(title)}${link(ref)}`;
    } catch (e) {
      await conn.rollback().catch(() => {});
      throw e;
    }
  } finally {
    conn.release();
  }
}

async function run(cmd, companyId) {
  if (!companyId) return unknownWorkspace;
  const me = await caller(pool, companyId, cmd.user_id);
  if (!me || !['admin', 'manager', 'staff', 'contractor', 'client'].includes(me.role)) {
    return (
      "Your Slack account isn't linked to a CanTicket user yet. Ask an admin of your company to " +
      `add your Slack member ID (${esc(cmd.user_id)}) to your CanTicket profile, then try again.`
    );
  }
  const w = nextWord(cmd.text ?? '', 16);
  if (!w || w[0] === 'help') return help(cmd.command);
  if (w[0] === 'show') return cmdShow(cmd, companyId, me, w[1]);
  if (w[0] === 'new') return cmdNew(cmd, companyId, me, w[1]);
  return help(cmd.command); // the peer does the two commands bench/slack sends
}

// ------------------------------------------------------------------ Bolt

let errorsLogged = 0;

const app = new App({
  signingSecret: readSecret(env('BOLT_SIGNING_SECRET_FILE')),
  endpoints: env('BOLT_PATH', '/hooks/slack'),
  logLevel: LogLevel.ERROR,
  // A multi-workspace app resolves its installation per request; here the workspace's
  // company (no Slack API is ever called, so no bot token is needed).
  authorize: async (source) => {
    const account = source.isEnterpriseInstall ? source.enterpriseId : source.teamId;
    return { companyId: account ? await companyOf(account) : 0 };
  },
  customRoutes: [
    {
      path: '/readyz',
      method: ['GET'],
      handler: (_req, res) => {
        res.writeHead(200);
        res.end('ok');
      },
    },
  ],
});

app.command('/job', async ({ command, ack, context }) => {
  let text;
  try {
    text = await run(command, context.companyId);
  } catch (e) {
    if (errorsLogged++ < 10) console.error(`peer-bolt: ${command.text}: ${e.message}`);
    text = notApplied;
  }
  await ack({ response_type: 'ephemeral', text: clipBytes(text, REPLY_MAX - 1) });
});

async function main() {
  await pool.query('SELECT 1'); // fail at start, not on the first command
  await app.start({ port: PORT, host: '127.0.0.1' });
  console.error(`peer-bolt: listening on 127.0.0.1:${PORT}`);
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  // Finish what is in flight (the server stops accepting, idle connections close), then
  // close the pool; never wait more than 10 s.
  setTimeout(() => process.exit(1), 10000).unref();
  try {
    await app.stop();
    await pool.end();
    process.exit(0);
  } catch (e) {
    console.error(`peer-bolt: stopping: ${e.message}`);
    process.exit(1);
  }
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

main().catch((e) => {
  console.error(`peer-bolt: ${e.message}`);
  process.exit(1);
});
