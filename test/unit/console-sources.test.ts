import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const CONSOLE = path.resolve(__dirname, '../../src/console');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sources(full) : /\.ts$/.test(e.name) ? [full] : [];
  });
}

describe('the console sources', () => {
  it('type-check with their own settings (browser types, src/console/tsconfig.json)', () => {
    const configFile = ts.readConfigFile(path.join(CONSOLE, 'tsconfig.json'), ts.sys.readFile);
    expect(configFile.error).toBeUndefined();
    const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, CONSOLE);
    expect(parsed.fileNames.length).toBeGreaterThan(10);
    const program = ts.createProgram(parsed.fileNames, parsed.options);
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${path.relative(CONSOLE, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(problems).toEqual([]);
  });

  it('talk to the API over HTTP only: no import leaves src/console except uPlot', () => {
    const offenders: string[] = [];
    for (const file of sources(CONSOLE)) {
      for (const { fileName: spec } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
        const inside = spec.startsWith('.') && path.resolve(path.dirname(file), spec).startsWith(CONSOLE + path.sep);
        if (!inside && spec !== 'uplot') offenders.push(`${path.relative(CONSOLE, file)} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('never put the API key in a URL', () => {
    // The key goes in the Authorization header only; no source builds a URL with it.
    for (const file of sources(CONSOLE)) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/[?&](api_?key|key|token)=/i);
      expect(text, file).not.toMatch(/new EventSource/);
    }
  });
});
