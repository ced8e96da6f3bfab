import type { CDPSession, Page } from 'playwright-core';
import { REF_ATTRIBUTE } from './actions.js';

/**
 * What the model sees of a page: its interactive elements found the way accessibility tools find them —
 * semantic tags and roles, `tabindex`, `cursor: pointer`, and event listeners (read through CDP
 * `DOMDebugger.getEventListeners`, which is how a `<span>` made clickable by `addEventListener` is found) —
 * each with its accessible name and state, under a ref that stays the element's for the whole episode.
 */

export const LISTENER_ATTRIBUTE = 'data-skill-eval-listener';

/** Listener types that make an element something to act on. */
const ACTIVE_EVENTS = new Set([
  'click',
  'dblclick',
  'mousedown',
  'mouseup',
  'pointerdown',
  'pointerup',
  'touchstart',
  'dragstart',
  'dragover',
  'drop',
  'keydown',
  'keyup',
  'keypress',
  'input',
  'change',
]);

/** Elements the in-page summary would not find on its own, at most this many per step. */
const MAX_LISTENER_PROBES = 500;

/** Marks visible elements that have an active event listener of their own (not the document's). */
export async function markListenerElements(cdp: CDPSession): Promise<void> {
  const objectGroup = 'skill-eval-listeners';
  const { result } = await cdp.send('Runtime.evaluate', {
    expression: `Array.from(document.querySelectorAll('body *')).filter((el) => !el.hasAttribute('${LISTENER_ATTRIBUTE}') && !['SCRIPT', 'STYLE', 'BR', 'OPTION'].includes(el.tagName) && el.getClientRects().length > 0).slice(0, ${MAX_LISTENER_PROBES})`,
    objectGroup,
  });
  if (!result.objectId) return;
  try {
    const { result: properties } = await cdp.send('Runtime.getProperties', {
      objectId: result.objectId,
      ownProperties: true,
    });
    const elements = properties.filter((p) => /^\d+$/.test(p.name) && p.value?.objectId).map((p) => p.value!.objectId!);
    await Promise.all(
      elements.map(async (objectId) => {
        const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId });
        if (!listeners.some((l) => ACTIVE_EVENTS.has(l.type))) return;
        await cdp.send('Runtime.callFunctionOn', {
          objectId,
          functionDeclaration: `function () { this.setAttribute('${LISTENER_ATTRIBUTE}', ''); }`,
        });
      }),
    );
  } finally {
    await cdp.send('Runtime.releaseObjectGroup', { objectGroup });
  }
}

export interface ListedOption {
  label: string;
  value: string;
  selected: boolean;
}

export interface ListedElement {
  ref: number;
  role: string;
  name: string;
  /** `checked=true`, `disabled`, `value="…"`, `id=…`, `tag=span`, `offscreen`… in display order. */
  details: string[];
  options: ListedOption[];
}

export interface PageSummary {
  title: string;
  text: string;
  elements: ListedElement[];
}

/**
 * Runs in the page (as source: the project compiles without DOM types). Finds the candidates, gives each a
 * stable ref (kept in an attribute, so a ref names the same element on every step), and describes it.
 */
const SUMMARISE_PAGE = `(() => {
  const REF = '${REF_ATTRIBUTE}';
  const clean = (text, max = 80) => (text || '').replace(/\\s+/g, ' ').trim().slice(0, max);
  const SKIP_ROLES = new Set(['presentation', 'none', 'generic', 'group', 'region', 'main', 'navigation', 'banner', 'contentinfo', 'article', 'document', 'img', 'list', 'listitem', 'paragraph', 'heading', 'status', 'alert', 'log', 'note', 'tooltip']);
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role], [tabindex]:not([tabindex="-1"]), [contenteditable=""], [contenteditable=true], [onclick], [draggable=true], [${LISTENER_ATTRIBUTE}]';
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const pointer = (el) => getComputedStyle(el).cursor === 'pointer' && !(el.parentElement && getComputedStyle(el.parentElement).cursor === 'pointer');
  const found = new Set();
  for (const el of document.querySelectorAll(selector)) {
    const role = el.getAttribute('role');
    if (role && SKIP_ROLES.has(role) && !el.hasAttribute('${LISTENER_ATTRIBUTE}') && !el.hasAttribute('tabindex')) continue;
    if (el.tagName === 'LABEL' && el.control) continue;
    found.add(el);
  }
  for (const el of document.querySelectorAll('body *')) if (!found.has(el) && pointer(el) && !(el.tagName === 'LABEL' && el.control)) found.add(el);
  const textWithout = (container, skip) => {
    let out = '';
    const walk = (node) => {
      if (node === skip || node.tagName === 'SELECT' || node.tagName === 'TEXTAREA' || node.tagName === 'SCRIPT') return;
      if (node.nodeType === 3) out += node.textContent;
      for (const child of node.childNodes) walk(child);
    };
    walk(container);
    return out;
  };
  const roleOf = (el) => {
    const explicit = el.getAttribute('role');
    if (explicit) return explicit.split(' ')[0];
    const tag = el.tagName.toLowerCase();
    if (tag === 'input') {
      const type = (el.type || 'text').toLowerCase();
      if (type === 'checkbox' || type === 'radio') return type;
      if (type === 'range') return 'slider';
      if (type === 'number') return 'spinbutton';
      if (['button', 'submit', 'reset', 'image'].includes(type)) return 'button';
      return 'textbox';
    }
    if (tag === 'textarea') return 'textbox';
    if (tag === 'select') return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
    if (tag === 'button' || tag === 'summary') return 'button';
    if (tag === 'a' && el.hasAttribute('href')) return 'link';
    if (el.isContentEditable) return 'textbox';
    return 'clickable';
  };
  const nameOf = (el, role) => {
    const by = el.getAttribute('aria-labelledby');
    if (by) return clean(by.split(/\\s+/).map((id) => document.getElementById(id)?.innerText || '').join(' '));
    if (el.getAttribute('aria-label')) return clean(el.getAttribute('aria-label'));
    if (el.labels && el.labels.length > 0) return clean(Array.from(el.labels).map((l) => textWithout(l, el)).join(' '));
    const tag = el.tagName.toLowerCase();
    if (tag === 'input' && ['button', 'submit', 'reset'].includes(el.type)) return clean(el.value);
    if (tag === 'input' || tag === 'textarea' || tag === 'select') return clean(el.getAttribute('title') || el.getAttribute('placeholder') || '');
    return clean(el.innerText || el.getAttribute('title') || el.getAttribute('alt') || '');
  };
  const elements = [];
  window.__skillEvalLastRef = window.__skillEvalLastRef || 0;
  for (const el of document.querySelectorAll('body *')) {
    if (!found.has(el) || !visible(el)) continue;
    let ref = Number(el.getAttribute(REF));
    if (!ref) {
      ref = ++window.__skillEvalLastRef;
      el.setAttribute(REF, String(ref));
    }
    const tag = el.tagName.toLowerCase();
    const role = roleOf(el);
    const details = [];
    if (role === 'checkbox' || role === 'radio' || role === 'switch') details.push('checked=' + (el.checked ?? el.getAttribute('aria-checked') === 'true'));
    else if (el.hasAttribute('aria-checked')) details.push('checked=' + el.getAttribute('aria-checked'));
    if (el.hasAttribute('aria-selected')) details.push('selected=' + el.getAttribute('aria-selected'));
    if (el.hasAttribute('aria-expanded')) details.push('expanded=' + el.getAttribute('aria-expanded'));
    if (el.tagName === 'DETAILS' || (tag === 'summary' && el.parentElement)) details.push('expanded=' + Boolean((el.tagName === 'DETAILS' ? el : el.parentElement).open));
    if (el.disabled || el.getAttribute('aria-disabled') === 'true') details.push('disabled');
    if ((tag === 'input' && role !== 'checkbox' && role !== 'radio' && role !== 'button') || tag === 'textarea' || tag === 'select') details.push('value=' + JSON.stringify(el.value));
    if (el.isContentEditable && tag !== 'input' && tag !== 'textarea') details.push('value=' + JSON.stringify(clean(el.innerText, 200)));
    if (el.getAttribute('placeholder')) details.push('placeholder=' + JSON.stringify(el.getAttribute('placeholder')));
    if (el.getAttribute('draggable') === 'true') details.push('draggable');
    if (el.id) details.push('id=' + el.id);
    if (role === 'clickable' || el.hasAttribute('role')) details.push('tag=' + tag);
    const box = el.getBoundingClientRect();
    if (box.bottom < 0 || box.right < 0 || box.top > innerHeight || box.left > innerWidth) details.push('offscreen');
    const options = tag === 'select' ? Array.from(el.options).map((o) => ({ label: clean(o.text), value: o.value, selected: o.selected })) : [];
    elements.push({ ref, role, name: nameOf(el, role), details, options });
  }
  return { title: document.title, text: clean(document.body && document.body.innerText, 1000), elements };
})()`;

/** The page's interactive elements and text, after marking what listeners make interactive. */
export async function summarisePage(page: Page, cdp: CDPSession): Promise<PageSummary> {
  await markListenerElements(cdp);
  return (await page.evaluate(SUMMARISE_PAGE)) as PageSummary;
}

/** One element on one line (its options on the lines below): `[3] checkbox "Remember me" checked=false`. */
export function formatElements(elements: readonly ListedElement[]): string[] {
  const lines: string[] = [];
  for (const element of elements) {
    lines.push([`[${element.ref}] ${element.role} ${JSON.stringify(element.name)}`, ...element.details].join(' '));
    for (const option of element.options)
      lines.push(
        `    option ${JSON.stringify(option.label)} value=${JSON.stringify(option.value)}${option.selected ? ' selected' : ''}`,
      );
  }
  return lines;
}
