// binary-parser 2.3.0 ships declarations but its package.json "exports" has no "types" condition,
// so TypeScript's Node16/NodeNext/Bundler resolution cannot find them (TS7016). Fixed upstream after
// 2.3.0. This ambient module points TypeScript at the shipped declarations so that the `Parser` type
// in @imsplex/codec's API (and in your own code) resolves. Ambient declarations win over package
// resolution; delete this once binary-parser publishes the fix.
declare module 'binary-parser' {
  export * from 'binary-parser/dist/binary_parser.js';
}
