// escape-html 1.x ships no types; this is its whole API (https://github.com/component/escape-html).
declare module 'escape-html' {
  /** `&`, `<`, `>`, `"` and `'` replaced by HTML entities. */
  export default function escapeHtml(text: string): string;
}
