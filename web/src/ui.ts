/**
 * Small DOM helpers of the lab page, and its error policy: every handler runs through `guard`, which
 * shows a failure in the panel's alert box (riesz's typed errors say what is wrong) instead of
 * letting it reach the console.
 */

/** The element with this id, of the expected type. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no element #${id}`);
  return el as T;
}

/** Creates an element with attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

/** The message of anything thrown, with riesz's error kind when it has one. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** Shows (or, with null, clears) an error in an alert box. */
export function showError(box: HTMLElement, e: unknown | null): void {
  if (e === null) {
    box.hidden = true;
    box.textContent = '';
    return;
  }
  box.hidden = false;
  box.textContent = describeError(e);
}

/**
 * Runs `f` (sync or async), showing any error in `box` and clearing the box on success. Never
 * rethrows: the page stays usable and the console stays clean.
 */
export async function guard(box: HTMLElement, f: () => unknown): Promise<boolean> {
  try {
    await f();
    showError(box, null);
    return true;
  } catch (e) {
    showError(box, e);
    return false;
  }
}

/** A number formatted for the page: 4 significant digits, exponent form for very large/small. */
export function fmt(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

/** Lets the browser paint and handle input before the next piece of work. */
export function nextFrame(): Promise<void> {
  return new Promise((ok) => setTimeout(ok, 0));
}
