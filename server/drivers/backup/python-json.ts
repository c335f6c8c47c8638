/**
 * JSON text identical to Python's `json.dumps(value, ensure_ascii=True, ...)`:
 * Cinder writes its `_metadata` and `_sha256file` with `indent=2, sort_keys=True`, and encodes
 * `volume_meta` with the defaults (`", "` and `": "` separators, insertion order).
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface PythonDumpOptions {
  indent?: number;
  sortKeys?: boolean;
}

const shortEscapes: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

function escapeCharacter(character: string): string {
  const short = shortEscapes[character];
  if (short !== undefined) return short;
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Python's ensure_ascii escaping: everything outside printable ASCII becomes \uXXXX (UTF-16 units). */
export function pythonQuote(text: string): string {
  return `"${text.replace(/[\\"]|[^ -~]/g, escapeCharacter)}"`;
}

function compareCodePoints(left: string, right: string): number {
  const a = Array.from(left);
  const b = Array.from(right);
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index += 1) {
    const difference = a[index]!.codePointAt(0)! - b[index]!.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`cannot encode ${value} as JSON`);
  if (Number.isInteger(value)) return value.toFixed(0);
  return String(value);
}

export function pythonJsonDumps(value: JsonValue, options: PythonDumpOptions = {}): string {
  const indent = options.indent;
  const sortKeys = options.sortKeys ?? false;
  const itemSeparator = indent === undefined ? ', ' : ',';

  const encode = (current: JsonValue, depth: number): string => {
    if (current === null) return 'null';
    if (typeof current === 'boolean') return current ? 'true' : 'false';
    if (typeof current === 'number') return formatNumber(current);
    if (typeof current === 'string') return pythonQuote(current);
    const open = Array.isArray(current) ? '[' : '{';
    const close = Array.isArray(current) ? ']' : '}';
    const parts = Array.isArray(current)
      ? current.map((item) => encode(item, depth + 1))
      : (sortKeys ? Object.keys(current).sort(compareCodePoints) : Object.keys(current)).map(
          (key) => `${pythonQuote(key)}: ${encode(current[key]!, depth + 1)}`,
        );
    if (parts.length === 0) return `${open}${close}`;
    if (indent === undefined) return `${open}${parts.join(itemSeparator)}${close}`;
    const inner = `\n${' '.repeat(indent * (depth + 1))}`;
    const outer = `\n${' '.repeat(indent * depth)}`;
    return `${open}${inner}${parts.join(itemSeparator + inner)}${outer}${close}`;
  };

  return encode(value, 0);
}
