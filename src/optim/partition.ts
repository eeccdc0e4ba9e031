/**
 * Routing: which parameter gets which optimizer. By default 2-D hidden weights and 4-D conv kernels
 * go to the matrix method; embeddings, the output head, biases and gains (anything 1-D) go to AdamW —
 * the safe split of Muon's and K-FAC's users (ANCHORS.md). Rules override the default by name
 * pattern or predicate, first match wins. `routingTable` prints who got what.
 */
import { UsageError } from '../errors.js';
import type { GradientTransformation, ParamDict, UpdateContext, UpdateResult } from './types.js';

/** The name of an optimizer in a routing: 'matrix', 'adamw', or any label a rule gives. */
export type RouteLabel = string;

/** A routing rule: parameters that `match` get `label`. */
export interface RouteRule {
  /** A name pattern (RegExp, or a string matched as a substring) or a predicate on name and shape. */
  match: RegExp | string | ((name: string, shape: number[]) => boolean);
  label: RouteLabel;
}

/** How {@link routeOf} labels parameters: the head's names, extra rules, and the two default labels. */
export interface RoutingOptions {
  /** Names of output-head weights (default: names matching /head|lm_head|classifier/). */
  head?: string[];
  /** Rules tried before the default. */
  rules?: RouteRule[];
  /** Label of the matrix method (default 'matrix') and of the fallback (default 'adamw'). */
  matrixLabel?: RouteLabel;
  fallbackLabel?: RouteLabel;
}

const EMBEDDING = /(^|[._])(emb|embed|embedding|embeddings|wte|wpe|tok_emb|pos_emb)([._]|$)/i;
const HEAD = /(^|[._])(head|lm_head|classifier)([._]|$)/i;

/** The label of one parameter. */
export function routeOf(name: string, shape: number[], opts: RoutingOptions = {}): RouteLabel {
  for (const r of opts.rules ?? []) {
    const m = r.match;
    const hit =
      typeof m === 'function' ? m(name, shape) : typeof m === 'string' ? name.includes(m) : m.test(name);
    if (hit) return r.label;
  }
  const fallback = opts.fallbackLabel ?? 'adamw';
  if (shape.length !== 2 && shape.length !== 4) return fallback;
  if (EMBEDDING.test(name)) return fallback;
  if (opts.head ? opts.head.includes(name) : HEAD.test(name)) return fallback;
  return opts.matrixLabel ?? 'matrix';
}

/** Labels of every parameter. */
export function routeAll(params: ParamDict, opts: RoutingOptions = {}): Record<string, RouteLabel> {
  const out: Record<string, RouteLabel> = {};
  for (const [k, v] of Object.entries(params)) out[k] = routeOf(k, v.shape, opts);
  return out;
}

/**
 * Runs one transformation per label on that label's parameters (optax's multi_transform). Every
 * parameter must have a label with a transformation; curvature taps reach every transformation.
 */
export function multiTransform(
  transforms: Record<RouteLabel, GradientTransformation<unknown>>,
  labels: Record<string, RouteLabel>,
): GradientTransformation<Record<RouteLabel, unknown>> {
  const pick = (d: ParamDict | undefined, label: RouteLabel): ParamDict => {
    const out: ParamDict = {};
    if (d) for (const k of Object.keys(d)) if (labels[k] === label) out[k] = d[k];
    return out;
  };
  const check = (params: ParamDict) => {
    for (const k of Object.keys(params)) {
      const l = labels[k];
      if (l === undefined) throw new UsageError(`routing: parameter '${k}' has no label`);
      if (!(l in transforms))
        throw new UsageError(
          `routing: label '${l}' of '${k}' has no transformation (have ${Object.keys(transforms).join(', ')})`,
        );
    }
  };
  return {
    init(params) {
      check(params);
      const state: Record<RouteLabel, unknown> = {};
      for (const [label, t] of Object.entries(transforms)) state[label] = t.init(pick(params, label));
      return state;
    },
    update(grads, state, params, ctx?: UpdateContext): UpdateResult<Record<RouteLabel, unknown>> {
      const updates: ParamDict = {};
      const next: Record<RouteLabel, unknown> = {};
      const pending: Promise<void>[] = [];
      for (const [label, t] of Object.entries(transforms)) {
        const r = t.update(pick(grads, label), state[label], params && pick(params, label), ctx);
        const take = ([u, s]: [ParamDict, unknown]) => {
          Object.assign(updates, u);
          next[label] = s;
        };
        if (r instanceof Promise) pending.push(r.then(take));
        else take(r);
      }
      // Synchronous while every transformation is; else one promise for all of them.
      if (pending.length === 0) return [updates, next];
      return Promise.all(pending).then(() => [updates, next]);
    },
  };
}

/** A plain-text table of parameters, shapes and the method each one gets. */
export function routingTable(
  params: ParamDict,
  labels: Record<string, RouteLabel>,
  methods: Record<RouteLabel, string> = {},
): string {
  const rows = Object.entries(params).map(([k, v]) => [
    k,
    v.shape.join('×'),
    methods[labels[k]] ?? labels[k],
  ]);
  const header = ['parameter', 'shape', 'method'];
  const w = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (r: string[]) =>
    r
      .map((c, j) => c.padEnd(w[j]))
      .join('  ')
      .trimEnd();
  return [line(header), w.map((n) => '─'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}
