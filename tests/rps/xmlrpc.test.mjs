// The stand-ins' small XML-RPC reader/writer: what it takes, what it refuses.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  INVALID_XMLRPC,
  PARSE_ERROR,
  XmlRpcError,
  faultResponse,
  methodCall,
  methodResponse,
  parseMethodCall,
  parseXml,
} from "./standins/xmlrpc.mjs";

test("reads every XML-RPC type", () => {
  const src = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<methodCall>
  <methodName>redirect.addMaterialServer</methodName>
  <params>
    <param><value><array><data>
      <value><string>cfgName=a&amp;b</string></value>
      <value>untyped &lt;x&gt; &#65;&#x42;</value>
    </data></array></value></param>
    <param><value><int>-7</int></value></param>
    <param><value><i4>+3</i4></value></param>
    <param><value><boolean>1</boolean></value></param>
    <param><value><double>1.5</double></value></param>
    <param><value><struct><member><name>k</name><value><string></string></value></member></struct></value></param>
    <param><value><nil/></value></param>
    <param><value><base64>aGk=</base64></value></param>
    <param><value></value></param>
  </params>
</methodCall>`;
  const { method, params } = parseMethodCall(src);
  assert.equal(method, "redirect.addMaterialServer");
  assert.deepEqual(params.slice(0, 7), [["cfgName=a&b", "untyped <x> AB"], -7, 3, true, 1.5, { k: "" }, null]);
  assert.equal(params[7].toString(), "hi");
  assert.equal(params[8], "");
});

test("a call without params; writer output reads back", () => {
  assert.deepEqual(parseMethodCall("<methodCall><methodName>redirect.listDevices</methodName></methodCall>"), { method: "redirect.listDevices", params: [] });
  const v = ["a<&>b", 5, false, [1, "x"], { s: "y" }];
  assert.deepEqual(parseMethodCall(methodCall("m.n", v)).params, v);
  const r = parseXml(methodResponse([true, "Ok"]));
  assert.equal(r.name, "methodResponse");
  assert.match(faultResponse(-32601, "nope"), /<name>faultCode<\/name><value><int>-32601<\/int>/);
});

test("refuses DOCTYPE, entities, attributes, mixed content, junk, bad types", () => {
  const cases = [
    [`<!DOCTYPE m [<!ENTITY e "x">]><methodCall><methodName>a</methodName></methodCall>`, PARSE_ERROR],
    [`<methodCall><methodName>&e;</methodName></methodCall>`, PARSE_ERROR],
    [`<methodCall><methodName>a & b</methodName></methodCall>`, PARSE_ERROR],
    [`<methodCall x="1"><methodName>a</methodName></methodCall>`, PARSE_ERROR],
    [`<methodCall><methodName>a</methodName>text</methodCall>`, PARSE_ERROR],
    [`<methodCall><methodName>a</methodName></methodCall><x/>`, PARSE_ERROR],
    [`<methodCall><methodName>a</methodName><params><param><value><![CDATA[x]]></value></param></params></methodCall>`, PARSE_ERROR],
    [`<methodCall><methodName>a</methodName></methodcall>`, PARSE_ERROR],
    [`<methodCall><methodName>a</methodName>`, PARSE_ERROR],
    [`<methodResponse/>`, INVALID_XMLRPC],
    [`<methodCall><params/></methodCall>`, INVALID_XMLRPC],
    [`<methodCall><methodName>a</methodName><params><param><value><int>1.5</int></value></param></params></methodCall>`, INVALID_XMLRPC],
    [`<methodCall><methodName>a</methodName><params><param><value><boolean>true</boolean></value></param></params></methodCall>`, INVALID_XMLRPC],
    [`<methodCall><methodName>a</methodName><params><param><value><date>x</date></value></param></params></methodCall>`, INVALID_XMLRPC],
    [`<methodCall><methodName>a</methodName><params><value><string>x</string></value></params></methodCall>`, INVALID_XMLRPC],
    [`<methodCall><methodName>a</methodName><params><param><value><string>x</string><string>y</string></value></param></params></methodCall>`, INVALID_XMLRPC],
  ];
  for (const [src, code] of cases) {
    assert.throws(
      () => parseMethodCall(src),
      (e) => e instanceof XmlRpcError && e.code === code,
      src,
    );
  }
});
