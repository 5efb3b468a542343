/**
 * A small XML reader for Liberty-style configuration files (server.xml, service definitions). It
 * supports what such files use — the XML declaration, comments, elements, attributes in single or
 * double quotes, the five named entities and numeric character references, text and CDATA — and
 * records the line of every element and attribute so errors can say `file:line: key: what`.
 * DOCTYPE and processing instructions other than the declaration are rejected.
 */

/** An attribute with the line it is on. */
export interface XmlAttribute {
  readonly value: string;
  readonly line: number;
}

/** One element. */
export interface XmlElement {
  readonly name: string;
  readonly line: number;
  readonly attributes: ReadonlyMap<string, XmlAttribute>;
  readonly children: readonly XmlElement[];
  /** Text and CDATA content, concatenated (entities resolved). */
  readonly text: string;
}

/** A syntax error at a line. */
export class XmlSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Deepest element nesting accepted. */
export const MAX_XML_DEPTH = 64;

const NAME = /[A-Za-z_:][-A-Za-z0-9_.:]*/y;

function decodeEntities(s: string, line: number): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);|&/g, (m, ref: string | undefined) => {
    if (ref === undefined) throw new XmlSyntaxError(line, "'&' must start an entity such as &amp;");
    if (ref.startsWith('#x')) return String.fromCodePoint(checkCodePoint(parseInt(ref.slice(2), 16), line));
    if (ref.startsWith('#')) return String.fromCodePoint(checkCodePoint(parseInt(ref.slice(1), 10), line));
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    const v = named[ref];
    if (v === undefined) throw new XmlSyntaxError(line, `unknown entity ${m}`);
    return v;
  });
}

function checkCodePoint(n: number, line: number): number {
  if (!Number.isFinite(n) || n < 1 || n > 0x10ffff) throw new XmlSyntaxError(line, `invalid character reference ${n}`);
  return n;
}

/** Parse an XML document and return its root element. Throws `XmlSyntaxError`. */
export function parseXml(source: string): XmlElement {
  let i = 0;
  let line = 1;
  const n = source.length;
  const advance = (to: number): void => {
    for (let k = i; k < to; k++) if (source.charCodeAt(k) === 10) line++;
    i = to;
  };
  const skipSpace = (): void => {
    let k = i;
    while (k < n && /\s/.test(source[k]!)) k++;
    advance(k);
  };
  const expect = (s: string, what: string): void => {
    if (!source.startsWith(s, i)) throw new XmlSyntaxError(line, `expected ${what}`);
    advance(i + s.length);
  };
  const readName = (what: string): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(source);
    if (!m) throw new XmlSyntaxError(line, `expected ${what}`);
    advance(i + m[0].length);
    return m[0];
  };
  const skipMisc = (): void => {
    for (;;) {
      skipSpace();
      if (source.startsWith('<!--', i)) {
        const end = source.indexOf('-->', i + 4);
        if (end < 0) throw new XmlSyntaxError(line, 'comment is not closed with -->');
        advance(end + 3);
      } else if (source.startsWith('<?', i)) {
        const start = line;
        const end = source.indexOf('?>', i + 2);
        if (end < 0) throw new XmlSyntaxError(start, 'processing instruction is not closed with ?>');
        if (!/^<\?xml[\s?]/.test(source.slice(i, i + 6))) throw new XmlSyntaxError(start, 'only the <?xml …?> declaration is allowed');
        advance(end + 2);
      } else if (source.startsWith('<!', i)) {
        throw new XmlSyntaxError(line, 'DOCTYPE and other declarations are not allowed');
      } else return;
    }
  };

  const element = (depth: number): XmlElement => {
    if (depth > MAX_XML_DEPTH) throw new XmlSyntaxError(line, `elements nest deeper than ${MAX_XML_DEPTH}`);
    const startLine = line;
    expect('<', "'<'");
    const name = readName('an element name');
    const attributes = new Map<string, XmlAttribute>();
    for (;;) {
      const before = i;
      skipSpace();
      if (source.startsWith('/>', i)) {
        advance(i + 2);
        return { name, line: startLine, attributes, children: [], text: '' };
      }
      if (source[i] === '>') {
        advance(i + 1);
        break;
      }
      if (i === before) throw new XmlSyntaxError(line, `expected whitespace, '>' or '/>' in <${name}>`);
      const attrLine = line;
      const attr = readName(`an attribute name in <${name}>`);
      skipSpace();
      expect('=', `'=' after attribute ${attr}`);
      skipSpace();
      const q = source[i];
      if (q !== '"' && q !== "'") throw new XmlSyntaxError(line, `attribute ${attr} needs a quoted value`);
      const end = source.indexOf(q, i + 1);
      if (end < 0) throw new XmlSyntaxError(attrLine, `attribute ${attr} value is not closed`);
      const raw = source.slice(i + 1, end);
      if (raw.includes('<')) throw new XmlSyntaxError(attrLine, `attribute ${attr} value must not contain '<'`);
      const value = decodeEntities(raw, attrLine);
      advance(end + 1);
      if (attributes.has(attr)) throw new XmlSyntaxError(attrLine, `attribute ${attr} is given twice`);
      attributes.set(attr, { value, line: attrLine });
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      if (i >= n) throw new XmlSyntaxError(startLine, `<${name}> is not closed`);
      if (source.startsWith('</', i)) {
        advance(i + 2);
        const closing = readName('an element name');
        if (closing !== name) throw new XmlSyntaxError(line, `</${closing}> does not close <${name}> (line ${startLine})`);
        skipSpace();
        expect('>', "'>'");
        return { name, line: startLine, attributes, children, text };
      }
      if (source.startsWith('<!--', i)) {
        const end = source.indexOf('-->', i + 4);
        if (end < 0) throw new XmlSyntaxError(line, 'comment is not closed with -->');
        advance(end + 3);
      } else if (source.startsWith('<![CDATA[', i)) {
        const end = source.indexOf(']]>', i + 9);
        if (end < 0) throw new XmlSyntaxError(line, 'CDATA section is not closed with ]]>');
        text += source.slice(i + 9, end);
        advance(end + 3);
      } else if (source[i] === '<') {
        children.push(element(depth + 1));
      } else {
        let end = source.indexOf('<', i);
        if (end < 0) end = n;
        text += decodeEntities(source.slice(i, end), line);
        advance(end);
      }
    }
  };

  if (source.charCodeAt(0) === 0xfeff) i = 1;
  skipMisc();
  if (i >= n) throw new XmlSyntaxError(line, 'the file has no root element');
  const root = element(0);
  skipMisc();
  if (i < n) throw new XmlSyntaxError(line, 'content after the root element');
  return root;
}
