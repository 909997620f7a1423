/** The development provider's pages: one small stylesheet, system fonts only (the demo works offline). */
import escape from 'escape-html';

/** Any value as HTML text. */
export function escapeHtml(value: unknown): string {
  return escape(String(value));
}

const css = `
:root { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1c2330; background: #eef1f5; }
body { margin: 0; }
.bar { background: #283548; color: #fff; padding: .7rem 1.25rem; font-weight: 700; }
.bar span { font-weight: 400; color: #d6deea; margin-left: .5rem; }
main { max-width: 44rem; margin: 1.5rem auto; padding: 0 1rem; }
.card { background: #fff; border: 1px solid #d5dae1; border-radius: 10px; padding: 1.25rem; margin: 1rem 0; }
h1 { font-size: 1.45rem; margin: 0 0 .5rem; }
h2 { font-size: 1.1rem; margin: 0 0 .25rem; }
.muted { color: #4f5b6b; }
button { font: inherit; font-weight: 600; padding: .55rem 1rem; min-height: 2.5rem; border-radius: 6px; border: 1px solid #1f5fbf; background: #1f5fbf; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #1f5fbf; }
button.danger { background: #b3261e; border-color: #b3261e; }
button:focus-visible, a:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
.choices { display: grid; gap: .6rem; }
.choices button { text-align: left; }
.row { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .4rem .5rem; border-top: 1px solid #e1e5eb; vertical-align: middle; }
code { font-size: .85rem; background: #f1f3f6; padding: .05rem .3rem; border-radius: 4px; }
.flash { background: #e6f4ea; border: 1px solid #1e7b34; color: #14532d; border-radius: 8px; padding: .6rem 1rem; }
a { color: #1f5fbf; }
`;

/** A full page in the provider's look; `body` is trusted HTML (callers escape what they insert). */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Demo identity provider</title><link rel="icon" href="data:,"><style>${css}</style></head>
<body><div class="bar">Demo identity provider<span>development only: no passwords</span></div><main>${body}</main></body></html>`;
}

/** oidc-provider hooks (features.rpInitiatedLogout.logoutSource, postLogoutSuccessSource, renderError). */
export const providerPageHooks = {
  async logoutSource(ctx: { body: string }, form: string) {
    ctx.body = page(
      'Sign out',
      `<div class="card"><h1>Sign out of the demo provider?</h1>
<p class="muted">You are leaving the board. Signing out here ends your session at the provider too.</p>
${form}<div class="row"><button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button class="secondary" type="submit" form="op.logoutForm">No, stay signed in</button></div></div>`,
    );
  },
  async postLogoutSuccessSource(ctx: { body: string }) {
    ctx.body = page('Signed out', '<div class="card"><h1>You are signed out</h1><p class="muted">You may close this window.</p></div>');
  },
  async renderError(ctx: { type: string; body: string }, out: Record<string, unknown>) {
    ctx.type = 'html';
    ctx.body = page(
      'Error',
      `<div class="card"><h1>Something went wrong</h1>${Object.entries(out)
        .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`)
        .join('')}</div>`,
    );
  },
};
