// ar-mcp through the official MCP TypeScript SDK client over stdio. Run by
// tests/cli/mcp.sh, which sets up the knowledge bases and passes in
// AR_MCP, AR_KB, QKB, BASE, KEEP and the CLI's messages (MSG_*). Prints
// "ok - NAME" or "FAIL - NAME" and a detail line per check, then "done".
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";

const env = process.env;
let failed = 0;
function check(name, ok, detail = "") {
  if (ok) console.log(`ok - ${name}`);
  else {
    failed++;
    console.log(`FAIL - ${name}`);
    console.log(`    ${detail}`);
  }
}
function eq(name, got, want) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  check(name, g === w, `got ${g}, wanted ${w}`);
}

async function connect(kb, extra = []) {
  const transport = new StdioClientTransport({
    command: env.AR_MCP,
    args: ["--kb", kb, ...extra],
    env: { ...env },
    stderr: "pipe",
  });
  const client = new Client({ name: "ar-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

// calls a tool; returns {r, s, text} (the result, its structuredContent, its first text)
async function call(client, name, args = {}) {
  const r = await client.callTool({ name, arguments: args });
  return { r, s: r.structuredContent, text: r.content?.[0]?.text ?? "" };
}

async function rejects(p) {
  try {
    await p;
    return null;
  } catch (e) {
    return e;
  }
}

// every fact file under dir (name and bytes), but the derived index
function treeSum(dir) {
  const h = createHash("sha256");
  const walk = (d, rel) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n), r = rel ? `${rel}/${n}` : n;
      if (!rel && n.startsWith("index.")) continue;
      if (statSync(p).isDirectory()) walk(p, r);
      else h.update(r + "\0").update(readFileSync(p));
    }
  };
  walk(dir, "");
  return h.digest("hex");
}

const WRITERS = ["card_record", "card_write", "card_note", "card_retract", "queue_add", "queue_claim",
  "queue_heartbeat", "queue_done", "queue_fail", "sync"];
const READERS = ["brief", "findings", "cards_query", "card_show", "queue_status", "plan"];

// ------------------------------------------------------------ lifecycle
const c = await connect(env.AR_KB);
eq("initialize: the server names itself", c.getServerVersion()?.name, "ar-mcp");
const caps = c.getServerCapabilities();
check("initialize: tools and resources capabilities", caps?.tools && caps?.resources, JSON.stringify(caps));
check("ping", (await rejects(c.ping())) === null);

const { tools } = await c.listTools();
eq("tools/list: every tool", tools.map((t) => t.name).sort(), [...READERS, ...WRITERS].sort());
check("tools/list: each has an input and an output schema",
  tools.every((t) => t.inputSchema?.type === "object" && t.outputSchema?.type === "object"));

// ------------------------------------------------------------ reading tools
let x = await call(c, "brief", { max_bytes: 1024 });
eq("brief: JSON", x.s?.schema, "ar.brief/1");
check("brief: text within max_bytes", x.text.length > 0 && Buffer.byteLength(x.text) <= 1024, x.text.length);
check("brief: JSON within max_bytes", JSON.stringify(x.s).length <= 1024);
check("brief: text names the best", x.text.includes("BEST SO FAR"), x.text.slice(0, 200));

x = await call(c, "findings");
eq("findings", x.s?.schema, "ar.findings/1");
check("findings: the matrix_lr claim", x.s?.claims.some((cl) => cl.claim === "matrix_lr:up"),
  JSON.stringify(x.s?.claims.map((cl) => cl.claim)));
x = await call(c, "findings", { key: "depth" });
eq("findings: by key", x.s?.total, 0);
x = await call(c, "findings", { key: "matrix_lr", class: "cpu-avx2" });
eq("findings: by key and class", x.s?.claims.map((cl) => cl.claim), ["matrix_lr:up"]);
x = await call(c, "findings", { min_certainty: 0.99 });
eq("findings: by certainty", x.s?.total, 0);

x = await call(c, "cards_query", { filter: 'select(.status=="keep") | .id' });
eq("cards_query", x.s?.results, [env.KEEP]);
x = await call(c, "cards_query", { filter: "repeat(.id)", max_bytes: 500 });
check("cards_query: bounded output", x.s?.truncated === true && x.s.bytes <= 500 && x.s.count > 0,
  JSON.stringify(x.s).slice(0, 200));
x = await call(c, "cards_query", { filter: "select(" });
check("cards_query: a bad program is a tool error", x.r.isError && x.text.startsWith("query: "), x.text);

x = await call(c, "cards_query", { filter: "[env, $ENV] | map(length)" });
eq("cards_query: the server's environment is not shown", x.s?.results?.[0], [0, 0]);
x = await call(c, "cards_query", { filter: 'import "/etc/passwd" as $p; $p' });
check("cards_query: import is a tool error, not a crash", x.r.isError && x.text.includes("module not found"), x.text);

x = await call(c, "cards_query", { filter: "[range(1e15)] | length", timeout_s: 0.5 });
check("cards_query: a program that runs on is stopped", x.r.isError && x.text === "query: stopped after 0.5 s (timeout_s)", x.text);
check("cards_query: the server lives on", (await rejects(c.ping())) === null);

x = await call(c, "card_show", { id: env.BASE });
eq("card_show", [x.s?.id, x.s?.status], [env.BASE, "baseline"]);
x = await call(c, "card_show", { id: "nope" });
check("card_show: bad id, the CLI's message", x.r.isError && x.text === env.MSG_SHOW, `${x.text} vs ${env.MSG_SHOW}`);

x = await call(c, "queue_status");
eq("queue_status on a knowledge base without a queue", x.s?.counts?.pending, 0);

// ------------------------------------------------------------ writing tools
x = await call(c, "card_write", {
  card: { hypothesis: "via mcp", category: "optimizer", status: "discard", commit: "abc1234",
    platform: { class: "cpu-avx2" }, budget_s: 300, metrics: { val_bpb: 1.2 } },
  lesson: "written through ar-mcp",
});
const NEW = x.s?.id;
check("card_write", !x.r.isError && /^\d{8}T\d{6}Z-[0-9a-f]{12}$/.test(NEW ?? ""), x.text);
x = await call(c, "card_show", { id: NEW });
eq("card_write: stored with its lesson", x.s?.notes?.map((n) => n.kind), ["lesson"]);
x = await call(c, "card_write", { card: { hypothesis: "no category" } });
check("card_write: an invalid card is a tool error", x.r.isError && x.text.includes("category"), x.text);

x = await call(c, "card_note", { id: NEW, comment: "a comment" });
eq("card_note: comment", x.s?.kind, "comment");
x = await call(c, "card_note", { id: NEW, status: "inconclusive", comment: "noise" });
eq("card_note: status", x.s?.kind, "status");
x = await call(c, "card_show", { id: NEW });
eq("card_note: the status counts", x.s?.status, "inconclusive");
x = await call(c, "card_note", { id: env.BASE, lesson: "a", comment: "b" });
check("card_note: two kinds, the CLI's message", x.r.isError && x.text === env.MSG_NOTE, `${x.text} vs ${env.MSG_NOTE}`);
x = await call(c, "card_note", { id: NEW, status: "great" });
check("card_note: unknown status", x.r.isError && x.text.includes("status"), x.text);

x = await call(c, "card_retract", { id: NEW, reason: "test card" });
eq("card_retract", x.s?.kind, "retract");
x = await call(c, "card_show", { id: NEW });
eq("card_retract: retracted", x.s?.retracted, true);

x = await call(c, "queue_add", { hypothesis: "lr up again", category: "optimizer", set: ["matrix_lr=0.05"], priority: 2 });
const E1 = x.s?.id;
eq("queue_add", [x.s?.entry?.status, x.s?.entry?.priority, x.s?.entry?.overrides], ["pending", 2, { matrix_lr: 0.05 }]);
x = await call(c, "queue_add", { hypothesis: "lr up again", category: "optimizer", set: ["matrix_lr=0.05"] });
check("queue_add: a duplicate is refused", x.r.isError && x.text.includes(E1), x.text);
x = await call(c, "queue_add", { hypothesis: "h", category: "optimizer", set: ["nosuch=1"] });
check("queue_add: unknown key, the CLI's message", x.r.isError && x.text === env.MSG_SET, `${x.text} vs ${env.MSG_SET}`);
x = await call(c, "queue_add", { replicate: env.KEEP });
const E2 = x.s?.id;
eq("queue_add: replicate", x.s?.entry?.verifies, env.KEEP);

x = await call(c, "queue_status");
eq("queue_status", x.s?.counts?.pending, 2);
x = await call(c, "queue_claim", { worker: "w1" });
eq("queue_claim: the best entry", [x.s?.entry?.id, x.s?.entry?.status, x.s?.entry?.claimed_by], [E1, "claimed", "w1"]);
x = await call(c, "queue_heartbeat", { id: E1, worker: "w1" });
check("queue_heartbeat", !x.r.isError && x.s?.entry?.heartbeat_at, x.text);
x = await call(c, "queue_heartbeat", { id: E1, worker: "w2" });
check("queue_heartbeat: someone else's claim", x.r.isError, x.text);
x = await call(c, "queue_done", { id: E1, card: "20991231T000000Z-000000000000" });
check("queue_done: unknown card", x.r.isError && x.text.includes("not found"), x.text);
x = await call(c, "queue_done", { id: E1, card: env.KEEP });
eq("queue_done", [x.s?.entry?.status, x.s?.entry?.card], ["done", env.KEEP]);
x = await call(c, "queue_fail", { id: E2, reason: "no time" });
eq("queue_fail", [x.s?.entry?.status, x.s?.entry?.reason], ["failed", "no time"]);
x = await call(c, "queue_claim", {});
eq("queue_claim: nothing pending", x.s?.entry, null);

x = await call(c, "plan", { platform: "cpu-avx2" });
const fresh = (x.s?.suggestions ?? []).filter((s) => !s.queued && !s.skipped).length;
check("plan: suggestions with reasons", fresh > 0 && x.s.suggestions.every((s) => s.reason && s.kind), x.text.slice(0, 300));
{
  // the tool and ar-queue plan make one pass (lib/analysis/plan_pass.c): the same suggestions
  const cli = execFileSync(join(dirname(env.AR_MCP), "ar-queue"),
    ["plan", "--json", "--max", "0", "--platform", "cpu-avx2"], { env: { ...env, AR_KB: env.AR_KB } })
    .toString().trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const all = await call(c, "plan", { platform: "cpu-avx2", max: 0 });
  eq("plan: the same suggestions as ar-queue plan --json", (all.s?.suggestions ?? []).map((s) => [s.hypothesis, s.queued ?? null, s.skipped ?? null]),
    cli.map((s) => [s.hypothesis, s.queued ?? null, s.skipped ?? null]));
  check("plan: there are some", cli.length > 0, "ar-queue plan printed none");
  // without a platform: this machine's class, detected, as ar-queue plan does it
  const cliDetected = execFileSync(join(dirname(env.AR_MCP), "ar-queue"), ["plan", "--json", "--max", "0"],
    { env: { ...env, AR_KB: env.AR_KB } }).toString().trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const detected = await call(c, "plan", { max: 0 });
  eq("plan: without a platform, the same suggestions as ar-queue plan --json", (detected.s?.suggestions ?? []).map((s) => [s.hypothesis, s.platform ?? null, s.skipped ?? null]),
    cliDetected.map((s) => [s.hypothesis, s.platform ?? null, s.skipped ?? null]));
}
x = await call(c, "plan", { platform: "cpu-avx2", apply: true, max: 1 });
eq("plan: apply", x.s?.added, 1);
x = await call(c, "queue_status");
eq("plan: apply queued it", x.s?.counts?.pending, 1);

x = await call(c, "sync");
check("sync: the new card and its 4 notes pushed to the remote", x.s?.ok && x.s.remote && x.s.pushed && x.s.committed.cards === 1 && x.s.committed.notes === 4, x.text);

x = await call(c, "card_record", { log_text: readFileSync(env.LOG_OK, "utf8"), repo: env.FORK, platform: "H100" });
check("card_record: the log's text becomes a card",
  !x.r.isError && x.s?.recorded === true && x.s.card.metrics?.val_bpb === 0.9979 &&
  x.s.card.platform?.class === "h100" && x.s.card.session === "mar8" && x.s.card.status === "baseline",
  x.text.slice(0, 300));
const REC = x.s?.id;
x = await call(c, "card_show", { id: REC });
eq("card_record: stored and indexed", x.s?.id, REC);
x = await call(c, "card_record", { log: env.LOG_BAD, repo: env.FORK, platform: "h100" });
check("card_record: a bad log, the CLI's message", x.r.isError && x.text === env.MSG_RECORD, `${x.text} vs ${env.MSG_RECORD}`);
x = await call(c, "card_record", { log: "-" });
check("card_record: never reads the protocol's stdin", x.r.isError && x.text.includes("log_text"), x.text);
x = await call(c, "card_record", {});
check("card_record: a log is needed", x.r.isError && x.text === "record: give log (a path) or log_text", x.text);

// ------------------------------------------------------------ resources
const { resources } = await c.listResources();
eq("resources/list", resources.map((r) => r.uri).sort(),
  ["ar://brief", "ar://findings", "ar://queue", "ar://synthesis/meta"]);
const { resourceTemplates } = await c.listResourceTemplates();
eq("resources/templates/list", resourceTemplates.map((t) => t.uriTemplate), ["ar://cards/{id}"]);
const read = async (uri) => (await c.readResource({ uri })).contents[0];
let r = await read("ar://brief");
check("ar://brief", r.mimeType === "text/plain" && r.text.startsWith("ar-brief:"), r.text?.slice(0, 100));
r = await read("ar://findings");
eq("ar://findings", JSON.parse(r.text).schema, "ar.findings/1");
r = await read("ar://synthesis/meta");
check("ar://synthesis/meta", Array.isArray(JSON.parse(r.text).best), r.text.slice(0, 100));
r = await read("ar://queue");
eq("ar://queue", JSON.parse(r.text).entries.length, 3);
r = await read(`ar://cards/${env.BASE}`);
eq("ar://cards/{id}", JSON.parse(r.text).id, env.BASE);
let e = await rejects(read("ar://cards/20991231T000000Z-000000000000"));
eq("ar://cards/{id}: unknown card", e?.code, -32002);
e = await rejects(read("ar://nothing"));
eq("an unknown resource", e?.code, -32002);

// ------------------------------------------------------------ protocol errors
e = await rejects(c.callTool({ name: "no_such_tool", arguments: {} }));
eq("an unknown tool is a protocol error", e?.code, -32602);
e = await rejects(c.request({ method: "no/such/method", params: {} }, z.any()));
eq("an unknown method", e?.code, -32601);
x = await call(c, "brief", { max_bytes: "big" });
check("bad argument type", x.r.isError && x.text === "argument 'max_bytes': must be an integer, not string", x.text);
x = await call(c, "brief", { max_bytes: 10 });
check("argument out of range", x.r.isError && x.text.includes("minimum"), x.text);
x = await call(c, "card_show", {});
check("missing argument", x.r.isError && x.text === "argument 'id' is required", x.text);
x = await call(c, "card_show", { id: env.BASE, color: "red" });
check("unknown argument", x.r.isError && x.text === "unknown argument 'color'", x.text);
x = await call(c, "brief", { session: "nosuch" });
check("a filter no card has", x.r.isError && x.text.includes("nosuch"), x.text);
check("the server lives on after the errors", (await rejects(c.ping())) === null);
await c.close();

// ------------------------------------------------------------ --read-only
const sum = treeSum(env.AR_KB);
const ro = await connect(env.AR_KB, ["--read-only"]);
const roTools = (await ro.listTools()).tools.map((t) => t.name).sort();
eq("read-only: only the readers", roTools, [...READERS].sort());
e = await rejects(ro.callTool({ name: "card_write", arguments: { card: {} } }));
eq("read-only: a writer is unknown", e?.code, -32602);
x = await call(ro, "plan", { platform: "cpu-avx2", apply: true });
check("read-only: plan does not apply", x.r.isError && x.text.includes("read-only"), x.text);
await call(ro, "brief", { recent: 3 });
x = await call(ro, "card_show", { id: env.BASE });
eq("read-only: reading works", x.s?.id, env.BASE);
await ro.close();
eq("read-only: nothing written", treeSum(env.AR_KB), sum);

// ------------------------------------------------------------ two servers, one queue
const a = await connect(env.QKB), b = await connect(env.QKB);
const claims = { w1: [], w2: [] };
async function worker(client, name, n) {
  for (let i = 0; i < n; i++) {
    const { s } = await call(client, "queue_claim", { worker: name });
    if (s?.entry) claims[name].push(s.entry.id);
  }
}
await Promise.all([worker(a, "w1", 20), worker(b, "w2", 20)]);
const all = [...claims.w1, ...claims.w2];
eq("two servers: 40 claims", all.length, 40);
eq("two servers: no entry claimed twice", new Set(all).size, 40);
x = await call(a, "queue_status", { all: true });
const claimedBy = Object.fromEntries((x.s?.entries ?? []).map((en) => [en.id, en.claimed_by]));
check("two servers: every entry claimed, by the worker that got it",
  x.s?.counts?.claimed === 40 && x.s.counts.pending === 0 &&
  claims.w1.every((id) => claimedBy[id] === "w1") && claims.w2.every((id) => claimedBy[id] === "w2"),
  JSON.stringify(x.s?.counts));
eq("two servers: each got all its 20", [claims.w1.length, claims.w2.length], [20, 20]);
x = await call(b, "queue_claim", {});
eq("two servers: the 41st claim finds nothing", x.s?.entry, null);
await a.close();
await b.close();

console.log("done");
process.exit(failed ? 1 : 0);
