using System;
using System.Text;

namespace ModelGen.Generator.Emit;

/// <summary>An indented text writer: generated code is text, never syntax trees.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public CodeWriter Line(string text = "")
    {
        if (text.Length == 0) { _sb.Append('\n'); return this; }
        _sb.Append(' ', _indent * 4).Append(text).Append('\n');
        return this;
    }

    /// <summary>A line exactly as given, without indentation (the lines of a raw string literal).</summary>
    public CodeWriter Raw(string text)
    {
        _sb.Append(text).Append('\n');
        return this;
    }

    /// <summary>Writes <paramref name="header"/>, an opening brace, and indents until the returned scope is disposed.</summary>
    public IDisposable Block(string header)
    {
        if (header.Length > 0) Line(header);
        Line("{");
        _indent++;
        return new Scope(this);
    }

    private sealed class Scope : IDisposable
    {
        private readonly CodeWriter _w;
        private bool _done;
        public Scope(CodeWriter w) => _w = w;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _w._indent--;
            _w.Line("}");
        }
    }

    public override string ToString() => _sb.ToString();
}
