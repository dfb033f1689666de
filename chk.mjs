import ts from "typescript";
const program = ts.createProgram(["src/index.ts"], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true, skipLibCheck: true, types: [] });
const checker = program.getTypeChecker();
const mod = checker.getSymbolAtLocation(program.getSourceFile("src/index.ts"));
for (const s of checker.getExportsOfModule(mod)) {
  const real = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
  const tags = real.getJsDocTags(checker).map(t=>t.name);
  const isValue = !!(real.flags & ts.SymbolFlags.Value);
  const sf = real.declarations?.[0]?.getSourceFile();
  const header = sf ? /^\s*(?:#![^\n]*\n)?\s*\/\*\*[\s\S]*?@example[\s\S]*?\*\//.test(sf.text) && sf.text.trimStart().startsWith("/**") : false;
  if (isValue && !tags.includes("example")) console.log(header ? "HDR " : "NONE", s.name, sf?.fileName.replace(process.cwd()+"/",""));
}
