// A small, strict XML-RPC reader and writer for the stand-ins (Fanvil FDPS, Snom legacy API).
// The XML subset: an optional <?xml ...?> declaration, elements without attributes, text with the
// five predefined entities and numeric character references, comments. A DOCTYPE, CDATA,
// attributes, other entities, mixed content or trailing junk are refused.

export class XmlRpcError extends Error {
  // code: the XML-RPC fault code the server answers with
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
export const PARSE_ERROR = -32700;
export const INVALID_XMLRPC = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*/;

function decodeText(s) {
  return s.replace(/&([^;]*);?/g, (m, ent) => {
    if (!m.endsWith(";")) throw new XmlRpcError(PARSE_ERROR, "bare '&' in text");
    switch (ent) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
    }
    let cp;
    if (/^#[0-9]+$/.test(ent)) cp = parseInt(ent.slice(1), 10);
    else if (/^#x[0-9a-fA-F]+$/.test(ent)) cp = parseInt(ent.slice(2), 16);
    else throw new XmlRpcError(PARSE_ERROR, `unknown entity &${ent};`);
    if (cp > 0x10ffff || cp === 0) throw new XmlRpcError(PARSE_ERROR, "bad character reference");
    return String.fromCodePoint(cp);
  });
}

// XML text -> {name, children: [element], text} (text: decoded, only for leaf elements).
export function parseXml(src) {
  let i = 0;
  const err = (m) => new XmlRpcError(PARSE_ERROR, `${m} at ${i}`);
  const skipMisc = () => {
    for (;;) {
      while (i < src.length && /\s/.test(src[i])) i++;
      if (src.startsWith("<!--", i)) {
        const e = src.indexOf("-->", i + 4);
        if (e < 0) throw err("unterminated comment");
        i = e + 3;
      } else return;
    }
  };
  if (src.charCodeAt(0) === 0xfeff) i = 1;
  if (src.startsWith("<?xml", i)) {
    const e = src.indexOf("?>", i);
    if (e < 0) throw err("unterminated declaration");
    i = e + 2;
  }
  skipMisc();
  if (src.startsWith("<!", i)) throw err("DOCTYPE/CDATA not accepted");
  const root = element();
  skipMisc();
  if (i !== src.length) throw err("junk after the root element");
  return root;

  function element() {
    if (src[i] !== "<") throw err("expected '<'");
    i++;
    const m = NAME.exec(src.slice(i, i + 200));
    if (!m) throw err("bad element name");
    const name = m[0];
    i += name.length;
    while (i < src.length && /\s/.test(src[i])) i++;
    if (src.startsWith("/>", i)) {
      i += 2;
      return { name, children: [], text: "" };
    }
    if (src[i] !== ">") throw err(`attributes or junk in <${name}>`);
    i++;
    const children = [];
    let textBuf = "";
    for (;;) {
      if (i >= src.length) throw err(`unterminated <${name}>`);
      if (src.startsWith("</", i)) {
        i += 2;
        if (!src.startsWith(name, i)) throw err(`mismatched close of <${name}>`);
        i += name.length;
        while (i < src.length && /\s/.test(src[i])) i++;
        if (src[i] !== ">") throw err("bad close tag");
        i++;
        break;
      }
      if (src.startsWith("<!--", i)) {
        const e = src.indexOf("-->", i + 4);
        if (e < 0) throw err("unterminated comment");
        i = e + 3;
        continue;
      }
      if (src.startsWith("<!", i) || src.startsWith("<?", i)) throw err("CDATA/PI not accepted");
      if (src[i] === "<") {
        children.push(element());
        continue;
      }
      const e = src.indexOf("<", i);
      const chunk = e < 0 ? src.slice(i) : src.slice(i, e);
      i += chunk.length;
      textBuf += chunk;
    }
    if (children.length && textBuf.trim() !== "") throw err(`mixed content in <${name}>`);
    return { name, children, text: children.length ? "" : decodeText(textBuf) };
  }
}

const bad = (m) => new XmlRpcError(INVALID_XMLRPC, m);
const only = (node, name) => {
  if (node.children.length !== 1 || node.children[0].name !== name) throw bad(`<${node.name}> must hold one <${name}>`);
  return node.children[0];
};

// <value> node -> JS value. string -> string, int/i4/i8 -> number, boolean -> boolean,
// double -> number, array -> array, struct -> plain object, nil -> null, base64 -> Buffer,
// dateTime.iso8601 -> {dateTime: text}.
export function decodeValue(node) {
  if (node.name !== "value") throw bad(`expected <value>, got <${node.name}>`);
  if (node.children.length === 0) return node.text; // an untyped value is a string
  if (node.children.length !== 1) throw bad("<value> with several children");
  const t = node.children[0];
  switch (t.name) {
    case "string":
      if (t.children.length) throw bad("<string> with children");
      return t.text;
    case "int":
    case "i4":
    case "i8": {
      if (!/^[+-]?\d+$/.test(t.text.trim())) throw bad(`bad <${t.name}>`);
      return Number(t.text.trim());
    }
    case "boolean": {
      const v = t.text.trim();
      if (v !== "0" && v !== "1") throw bad("bad <boolean>");
      return v === "1";
    }
    case "double": {
      const v = t.text.trim();
      if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(v)) throw bad("bad <double>");
      return Number(v);
    }
    case "nil":
      return null;
    case "base64":
      return Buffer.from(t.text.replace(/\s+/g, ""), "base64");
    case "dateTime.iso8601":
      return { dateTime: t.text.trim() };
    case "array": {
      const data = only(t, "data");
      return data.children.map(decodeValue);
    }
    case "struct": {
      const o = {};
      for (const m of t.children) {
        if (m.name !== "member" || m.children.length !== 2 || m.children[0].name !== "name") throw bad("bad <member>");
        o[m.children[0].text] = decodeValue(m.children[1]);
      }
      return o;
    }
    default:
      throw bad(`unknown type <${t.name}>`);
  }
}

// XML text -> {method, params: [JS values]}; throws XmlRpcError.
export function parseMethodCall(src) {
  const root = parseXml(src);
  if (root.name !== "methodCall") throw bad("root is not <methodCall>");
  const [nameNode, paramsNode, ...rest] = root.children;
  if (!nameNode || nameNode.name !== "methodName" || nameNode.children.length) throw bad("no <methodName>");
  if (rest.length) throw bad("junk in <methodCall>");
  const method = nameNode.text.trim();
  if (!/^[A-Za-z0-9_.:/]+$/.test(method)) throw bad("bad method name");
  const params = [];
  if (paramsNode) {
    if (paramsNode.name !== "params") throw bad("expected <params>");
    for (const p of paramsNode.children) {
      if (p.name !== "param") throw bad("expected <param>");
      params.push(decodeValue(only(p, "value")));
    }
  }
  return { method, params };
}

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function encodeValue(v) {
  if (typeof v === "boolean") return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === "number") return Number.isInteger(v) ? `<value><int>${v}</int></value>` : `<value><double>${v}</double></value>`;
  if (typeof v === "string") return `<value><string>${esc(v)}</string></value>`;
  if (v === null || v === undefined) return "<value><nil/></value>";
  if (Array.isArray(v)) return `<value><array><data>${v.map(encodeValue).join("")}</data></array></value>`;
  if (Buffer.isBuffer(v)) return `<value><base64>${v.toString("base64")}</base64></value>`;
  return `<value><struct>${Object.entries(v)
    .map(([k, x]) => `<member><name>${esc(k)}</name>${encodeValue(x)}</member>`)
    .join("")}</struct></value>`;
}

export const methodResponse = (v) => `<?xml version="1.0"?>\n<methodResponse><params><param>${encodeValue(v)}</param></params></methodResponse>\n`;

export const faultResponse = (code, message) =>
  `<?xml version="1.0"?>\n<methodResponse><fault>${encodeValue({ faultCode: code, faultString: message })}</fault></methodResponse>\n`;

export const methodCall = (method, params = []) =>
  `<?xml version="1.0"?>\n<methodCall><methodName>${esc(method)}</methodName><params>${params
    .map((p) => `<param>${encodeValue(p)}</param>`)
    .join("")}</params></methodCall>\n`;
