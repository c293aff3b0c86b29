//! Bounds on what a Jinja template may allocate and print.
//!
//! minijinja's fuel bounds instructions, not bytes: `"x" * 100000000` allocates 100 MB in one
//! instruction, and `~` doubles a string per instruction. An administrator's template must
//! not be able to abort the relay or a Worker, so three layers bound it:
//!
//! * **A static check** ([`check`]), run when a template is saved and again when it is
//!   loaded for rendering (a template saved by an older version, or arriving in a relay
//!   snapshot, is refused there, not run). It refuses what no runtime hook can see:
//!   operators (`~`, `+`, `*`) whose operands could hold a value already built by such an
//!   operator, a filter, a macro or a capture (the doubling chains); repetition other than a
//!   literal by a literal count; values that may nest more than [`MAX_NESTING`] deep (a
//!   list, dict or namespace built from itself in a loop, which nests once more per
//!   iteration); filters and functions outside a known list; macro output
//!   used other than printed; recursive macros; `include`/`import`/`extends`/`block` (a
//!   template is one file); and literal text in macros, `set` and `filter` blocks beyond
//!   [`MAX_CAPTURED_TEXT`] (such text is captured in memory, where the output cap cannot
//!   see it).
//! * **A per-render budget** ([`BUDGET_BYTES`]): every printed value (also inside macros
//!   and blocks) and every result of a filter that can grow its input is charged, and a
//!   filter checks its worst case before it allocates.
//! * **An output cap** ([`MAX_OUTPUT_BYTES`]) on the rendered file.
//!
//! A normal phone config is tens of KiB; the limits are far above that.

use std::cell::Cell;
use std::fmt;
use std::io;

use minijinja::machinery::ast::{self, BinOpKind, CallArg, Expr, Stmt};
use minijinja::machinery::{parse, WhitespaceConfig};
use minijinja::value::{Rest, Value, ValueKind};
use minijinja::{Environment, State};

use crate::error::{Error, ErrorKind, Result};

/// The largest rendered template output, in bytes.
pub(crate) const MAX_OUTPUT_BYTES: usize = 4 << 20;
/// Bytes a single render may print (values, also inside macros and blocks) plus what its
/// growing filters produce.
pub(crate) const BUDGET_BYTES: usize = 8 << 20;
/// The largest result of repeating a literal (`"-" * 20`).
const MAX_REPEAT_BYTES: u64 = 64 << 10;
/// Literal text a template may capture in memory (macro bodies, `set` and `filter` blocks),
/// counting each loop's worst-case iterations.
pub(crate) const MAX_CAPTURED_TEXT: u64 = 1 << 20;
/// Operands of one chain of `~`/`+` that are not literals: each may be a string of the
/// phone's data, so the chain's result stays a small multiple of the longest.
const MAX_JOINED: usize = 64;
/// Iterations a loop can run at most: every iteration costs fuel (at least four
/// instructions when its body prints anything).
const MAX_ITERATIONS: u64 = super_fuel() / 4;
/// BLF keys a phone's profile may hold for a template (the console's limit): a loop over
/// `blf` runs at most this often, and a profile with more is refused at render.
pub const MAX_BLF_KEYS: usize = 400;
/// Accounts (`lines`) a profile may hold for a template: at least what any model holds
/// (a DECT manager, 250; a model's count is a `u8`).
pub const MAX_LINES: usize = u8::MAX as usize;
/// Values of the phone's data all joins of a template may hold together (each operand of a
/// `~` counted where it is written, a name standing for what it was joined from).
const MAX_JOINED_TOTAL: u64 = 4096;
/// Bytes of literal text all joins of a template may hold together, counted the same way.
const MAX_JOINED_TEXT: u64 = 1 << 20;
/// Passes of the name analysis; a template needing more is treated as if its names held
/// built values (refused where that matters).
const MAX_PASSES: usize = 64;
/// Bytes charged per item of a sequence a filter builds (a value's size and some slack).
const ITEM_BYTES: usize = 32;
/// Macros that may call each other in a chain (`a` calling `b` calling `c`: 3).
const MAX_MACRO_DEPTH: usize = 8;
/// How deep a template may nest, in units along one path of its syntax tree (see
/// [`check_depth`]): minijinja's parser, its compiler and this check walk the tree
/// recursively, and a Worker's stack is 1 MiB or less.
const MAX_DEPTH: u32 = 256;
/// Units of one bracket level (`(`, `[`, `{`, a call's or a filter's arguments): the
/// parser spends a dozen frames on each. The bracket counts 1 more where it opens (a call
/// or a subscript is an operator).
const BRACKET_DEPTH: u32 = 16;
/// Units of one enclosing block (`if`, `for`, `macro`, ...; each `elif` is one more).
const BLOCK_DEPTH: u32 = 8;

/// How deep a value a template builds may nest (lists, maps and namespaces inside each
/// other): printing, comparing, serialising and freeing a value recurse once per level. A
/// value built from itself in a loop (`{% set ns.x = [ns.x] %}`) nests once more per
/// iteration, past any stack (1,000 levels overflowed a 512 KiB one).
const MAX_NESTING: u32 = 32;
/// A nesting past [`MAX_NESTING`]: what a value built from itself gets.
const UNBOUNDED: u32 = MAX_NESTING + 1;
/// Nesting of a name the template does not assign: the context's values (`lines`: a list
/// of maps of strings and numbers), `caller`, undefined names.
const CONTEXT_NESTING: u32 = 3;
/// The nesting analysis's name for an item of any loop (`loop.previtem`).
const LOOP_ITEM: &str = "#loop";
/// The nesting analysis's name for the deepest namespace attribute.
const ATTRS: &str = "#attrs";

const fn super_fuel() -> u64 {
    crate::template::FUEL
}

/// Filters a template may use. The ones that can grow their input are replaced by bounded
/// versions in [`install`]; the rest return their input, a part of it, or a number.
pub(crate) const FILTERS: [&str; 42] = [
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "title",
    "trim",
    "unique",
    "upper",
];

/// Functions a template may call, besides its own macros (and `caller()` inside them).
const FUNCTIONS: [&str; 3] = ["range", "namespace", "dict"];
/// Filters that return their input or a part of it (no new bytes).
const PASS_THROUGH: [&str; 9] = [
    "safe", "default", "d", "first", "last", "min", "max", "attr", "trim",
];
/// Filters whose result is a number or a boolean.
const NUMERIC_FILTERS: [&str; 7] = ["int", "float", "length", "count", "abs", "round", "bool"];
/// Attributes of the context's objects that are numbers.
const INT_ATTRS: [&str; 6] = [
    "index",
    "line",
    "server_port",
    "port",
    "poll_interval_minutes",
    "utc_offset_minutes",
];
/// Attributes of `loop` that are numbers or booleans.
const LOOP_NUMBERS: [&str; 9] = [
    "index",
    "index0",
    "revindex",
    "revindex0",
    "length",
    "depth",
    "depth0",
    "first",
    "last",
];
/// The context's top-level names (see `Renderer`).
use crate::template::CTX_NAMES as CONTEXT;

// ---- the static check

/// What a value holds at most: values of the phone's data (each at most the longest
/// string of a profile: names, labels, URLs) and bytes of literal text.
#[derive(Clone, Copy, Default, Debug)]
struct Size {
    values: u64,
    text: u64,
}

impl Size {
    const NUMBER: Self = Self {
        values: 0,
        text: 24,
    };
    const VALUE: Self = Self { values: 1, text: 0 };
    const ITEM: Self = Self {
        values: 0,
        text: ITEM_BYTES as u64,
    };

    fn plus(self, o: Self) -> Self {
        Self {
            values: self.values.saturating_add(o.values),
            text: self.text.saturating_add(o.text),
        }
    }

    fn max(self, o: Self) -> Self {
        Self {
            values: self.values.max(o.values),
            text: self.text.max(o.text),
        }
    }
}

/// Refuses a template whose memory use the runtime bounds cannot cover (see the module
/// documentation). A syntax error is left to the compiler, which reports it.
pub(crate) fn check(src: &str) -> Result<()> {
    check_depth(src)?;
    let Ok(root) = parse(
        src,
        "template",
        Default::default(),
        WhitespaceConfig::default(),
    ) else {
        return Ok(());
    };
    let mut c = Checker::default();
    c.collect(std::slice::from_ref(&root), None);
    c.fixpoints();
    c.nesting();
    c.stmts(std::slice::from_ref(&root), &Ctx::default())?;
    c.recursion()?;
    if c.captured > MAX_CAPTURED_TEXT {
        let (line, col) = c.captured_at.unwrap_or((1, 1));
        return Err(refused(
            line,
            col,
            format!(
                "macros, set blocks and filter blocks hold their text in memory: at most {} KiB, \
                 counting every loop iteration (a loop whose count is not a literal counts {} times); \
                 print a value with {{{{ }}}} instead, which is charged to the render's budget",
                MAX_CAPTURED_TEXT >> 10,
                MAX_ITERATIONS
            ),
        ));
    }
    Ok(())
}

/// Refuses a template nested deeper than [`MAX_DEPTH`], from its tokens alone (no tree is
/// built, nothing recurses), before anything parses it. In one comma-separated part of an
/// expression, a path down the tree passes at most every binary or unary operator (`a+b+c`
/// is `(a+b)+c`) and the attributes, filters, tests, calls and subscripts of one
/// operand, with the deepest bracket inside that operand; each bracket costs
/// [`BRACKET_DEPTH`] and each enclosing block [`BLOCK_DEPTH`]. The measure of what was read
/// so far is checked at every token, so a scan cut short by a lexer error (where the parser
/// stops too) has seen only what is within bounds.
fn check_depth(src: &str) -> Result<()> {
    use minijinja::machinery::{tokenize, Token};
    /// One bracket level (the first: the tag itself).
    #[derive(Default)]
    struct Level {
        /// Operators between operands in the current part.
        ops: u32,
        /// The deepest operand already ended in the current part.
        widest: u32,
        /// Attributes, filters, tests, calls, subscripts of the current operand.
        post: u32,
        /// The deepest bracket closed in the current operand.
        inner: u32,
        /// The deepest part already ended.
        done: u32,
    }
    impl Level {
        /// The depth so far, with an open bracket `child` deep in the current operand.
        fn depth(&self, child: u32) -> u32 {
            let operand = self.post.saturating_add(self.inner.max(child));
            self.done
                .max(self.ops.saturating_add(self.widest.max(operand)))
        }
        fn end_operand(&mut self) {
            self.widest = self.widest.max(self.post.saturating_add(self.inner));
            self.post = 0;
            self.inner = 0;
        }
    }
    let measure = |blocks: u32, levels: &[Level]| {
        let mut child = 0;
        for (i, l) in levels.iter().enumerate().rev() {
            child = l.depth(child);
            if i > 0 {
                child = child.saturating_add(BRACKET_DEPTH);
            }
        }
        blocks.saturating_add(child)
    };
    let too_deep = |span: minijinja::machinery::Span| {
        let (l, c) = at(span);
        Err(refused(
            l,
            c,
            format!(
                "the template nests too deeply here: along one path at most {MAX_DEPTH} units, each operator, filter, \
                 attribute or test counting 1, each bracket {BRACKET_DEPTH} and each enclosing block (`if`, `elif`, `for`, \
                 `macro`, ...) {BLOCK_DEPTH}; split a long expression with `set`, or print its parts one after the other"
            ),
        ))
    };
    // The enclosing blocks' units, innermost last.
    let mut blocks: Vec<u32> = Vec::new();
    let mut blocks_depth: u32 = 0;
    let mut levels: Vec<Level> = vec![Level::default()];
    // The tag's keyword (after `{%`), and whether it assigns (`set x = ...`).
    let mut keyword: Option<&str> = None;
    let mut assigns = false;
    let mut after_block_start = false;
    for token in tokenize(src, false, Default::default(), WhitespaceConfig::default()) {
        let Ok((token, span)) = token else {
            return Ok(());
        };
        let first = std::mem::take(&mut after_block_start);
        let top = levels.len() - 1;
        match token {
            Token::TemplateData(_) => {}
            Token::VariableStart | Token::BlockStart => {
                levels.clear();
                levels.push(Level::default());
                keyword = None;
                assigns = false;
                after_block_start = matches!(token, Token::BlockStart);
            }
            Token::VariableEnd | Token::BlockEnd => {
                match keyword {
                    Some(
                        "for" | "if" | "with" | "macro" | "call" | "filter" | "autoescape"
                        | "block",
                    ) => blocks.push(BLOCK_DEPTH),
                    Some("set") if !assigns => blocks.push(BLOCK_DEPTH),
                    // `elif` nests: the parser reads it as an `if` in the `else` branch.
                    Some("elif") => {
                        if let Some(b) = blocks.last_mut() {
                            *b = b.saturating_add(BLOCK_DEPTH);
                        }
                    }
                    Some(k) if k.starts_with("end") => {
                        blocks.pop();
                    }
                    _ => {}
                }
                blocks_depth = blocks.iter().fold(0u32, |a, b| a.saturating_add(*b));
                levels.clear();
                levels.push(Level::default());
                keyword = None;
            }
            Token::Ident(word) if first => keyword = Some(word),
            // A binary or unary operator, or an `if`/`else` expression.
            Token::Ident("not" | "and" | "or" | "if" | "else" | "in")
            | Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::FloorDiv
            | Token::Pow
            | Token::Mod
            | Token::Tilde
            | Token::Eq
            | Token::Ne
            | Token::Gt
            | Token::Gte
            | Token::Lt
            | Token::Lte => {
                levels[top].end_operand();
                levels[top].ops = levels[top].ops.saturating_add(1);
            }
            // On the operand before it.
            Token::Ident("is") | Token::Dot | Token::Pipe => {
                levels[top].post = levels[top].post.saturating_add(1);
            }
            Token::Assign => {
                if top == 0 {
                    assigns = true;
                }
                levels[top].end_operand();
            }
            Token::Comma | Token::Colon => {
                let l = &mut levels[top];
                l.done = l.depth(0);
                *l = Level {
                    done: l.done,
                    ..Level::default()
                };
            }
            Token::ParenOpen | Token::BracketOpen | Token::BraceOpen => {
                // A call or a subscript is on the operand before it (`f()()`, `a[0][0]`).
                levels[top].post = levels[top].post.saturating_add(1);
                levels.push(Level::default());
            }
            // A stray closing bracket is a syntax error, where the parser stops.
            Token::ParenClose | Token::BracketClose | Token::BraceClose if top > 0 => {
                if let Some(l) = levels.pop() {
                    let d = l.depth(0).saturating_add(BRACKET_DEPTH);
                    let parent = &mut levels[top - 1];
                    parent.inner = parent.inner.max(d);
                }
            }
            _ => {}
        }
        if measure(blocks_depth, &levels) > MAX_DEPTH {
            return too_deep(span);
        }
    }
    Ok(())
}

fn refused(line: usize, col: usize, detail: String) -> Error {
    Error::new(ErrorKind::TemplateSyntax, detail)
        .with_name("source")
        .at(line, Some(col))
}

fn at(span: minijinja::machinery::Span) -> (usize, usize) {
    (
        usize::from(span.start_line),
        usize::from(span.start_col) + 1,
    )
}

/// What an assignment gives a name.
enum Rhs<'a, 'e> {
    /// `set x = expr`, `with x = expr`.
    Expr(&'a Expr<'e>),
    /// A loop target: an item of `expr`.
    Item(&'a Expr<'e>),
    /// A macro parameter, a captured block, an unpacked tuple: anything.
    Opaque,
}

/// Where a name's value comes from, for the nesting analysis ([`Checker::nesting`]).
#[derive(Clone, Copy)]
enum Src<'a, 'e> {
    /// The value of an expression.
    Value(&'a Expr<'e>),
    /// An item of an expression's value, or a part of one: a level less.
    Item(&'a Expr<'e>),
    /// An expression's value inside a new list or map (a macro's `varargs`, `kwargs`).
    Wrapped(&'a Expr<'e>),
    /// A string (a captured block).
    Text,
}

#[derive(Default)]
struct Checker<'a, 'e> {
    /// Every name assigned anywhere (`ns.attr` for a namespace attribute), with all its
    /// right-hand sides: the analysis ignores order, so it holds for any path.
    assigned: std::collections::HashMap<String, Vec<Rhs<'a, 'e>>>,
    /// What the names not built beyond bounds hold at most (see [`Size`]); a name missing
    /// here may hold a value built by a filter, a macro, a capture or itself.
    sizes: std::collections::HashMap<String, Size>,
    /// Values and literal bytes of all joins in the template.
    joined: Size,
    /// Names whose value is a number or a boolean.
    numeric: std::collections::HashSet<String>,
    /// Loop targets that are items of the context (or of such a target).
    context: std::collections::HashSet<String>,
    macros: std::collections::HashSet<&'e str>,
    /// Calls between macros (`""`: the bodies of `call` blocks, reached through `caller()`).
    calls: Vec<(String, String, (usize, usize))>,
    captured: u64,
    /// Bytes of all literal repetitions (`"-" * 20`) in the template.
    repeated: u64,
    captured_at: Option<(usize, usize)>,
    /// The nesting analysis: where each name's value comes from. A namespace attribute is
    /// one name per attribute (`.x`, for every namespace; `.*` for any attribute), a
    /// macro's parameter gets its calls' arguments, [`LOOP_ITEM`] every loop's items.
    nest: std::collections::HashMap<String, Vec<Src<'a, 'e>>>,
    /// How deep each name of `nest` nests at most, up to [`UNBOUNDED`].
    nest_depth: std::collections::HashMap<String, u32>,
    /// The deepest of all namespace attributes.
    attrs_depth: u32,
    /// Macros, call blocks' bodies, and calls to either (printed, `call`, `do`).
    macro_decls: Vec<&'a ast::Macro<'e>>,
    call_block_decls: Vec<&'a ast::Macro<'e>>,
    macro_calls: Vec<&'a ast::Call<'e>>,
}

/// Where a statement sits.
#[derive(Default, Clone)]
struct Ctx {
    /// Inside a capture (macro, `set` block, `filter` block, `call` block).
    capture: bool,
    /// Worst-case iterations of the enclosing loops, inside the capture.
    iterations: u64,
    /// The macro whose body this is (`""` for a call block's body).
    in_macro: Option<String>,
}

fn target_names<'e>(target: &Expr<'e>, out: &mut Vec<(String, bool)>) {
    match target {
        Expr::Var(v) => out.push((v.id.to_owned(), true)),
        Expr::GetAttr(g) => {
            if let Expr::Var(v) = &g.expr {
                out.push((format!("{}.{}", v.id, g.name), true));
            }
        }
        Expr::List(l) => {
            for item in &l.items {
                let mut inner = Vec::new();
                target_names(item, &mut inner);
                out.extend(inner.into_iter().map(|(n, _)| (n, false)));
            }
        }
        _ => {}
    }
}

impl<'a, 'e> Checker<'a, 'e> {
    fn assign(
        &mut self,
        target: &'a Expr<'e>,
        rhs: fn(&'a Expr<'e>) -> Rhs<'a, 'e>,
        value: Option<&'a Expr<'e>>,
    ) {
        let mut names = Vec::new();
        target_names(target, &mut names);
        for (name, whole) in names {
            let r = match value {
                Some(v) if whole => rhs(v),
                _ => Rhs::Opaque,
            };
            let src = match (&r, value) {
                (Rhs::Expr(v), _) => Some(Src::Value(v)),
                (_, Some(v)) => Some(Src::Item(v)),
                (_, None) => None,
            };
            let sources = self.nest.entry(nest_name(&name)).or_default();
            sources.extend(src);
            self.assigned.entry(name).or_default().push(r);
        }
        // `namespace(n=0)` gives `ns.n` its first value.
        if let (Expr::Var(t), Some(v @ Expr::Call(c))) = (target, value) {
            if is_call_to(v, "namespace") {
                for a in &c.args {
                    if let CallArg::Kwarg(k, x) = a {
                        self.assigned
                            .entry(format!("{}.{k}", t.id))
                            .or_default()
                            .push(Rhs::Expr(x));
                    }
                }
            }
        }
        // Every namespace's attributes, for the nesting analysis.
        if let Some(v @ Expr::Call(c)) = value {
            if is_call_to(v, "namespace") {
                for a in &c.args {
                    let (name, x) = match a {
                        CallArg::Kwarg(k, x) => (format!(".{k}"), x),
                        CallArg::Pos(x) | CallArg::PosSplat(x) | CallArg::KwargSplat(x) => {
                            (".*".to_owned(), x)
                        }
                    };
                    self.nest.entry(name).or_default().push(Src::Value(x));
                }
            }
        }
    }

    fn opaque(&mut self, target: &'a Expr<'e>) {
        self.assign(target, Rhs::Expr, None);
    }

    /// Pass 1: every assignment, macro and loop target.
    fn collect(&mut self, stmts: &'a [Stmt<'e>], _parent: Option<&str>) {
        for s in stmts {
            match s {
                Stmt::Template(t) => self.collect(&t.children, None),
                Stmt::ForLoop(f) => {
                    self.assign(&f.target, Rhs::Item, Some(&f.iter));
                    self.nest
                        .entry(LOOP_ITEM.to_owned())
                        .or_default()
                        .push(Src::Item(&f.iter));
                    self.collect(&f.body, None);
                    self.collect(&f.else_body, None);
                }
                Stmt::IfCond(i) => {
                    self.collect(&i.true_body, None);
                    self.collect(&i.false_body, None);
                }
                Stmt::WithBlock(w) => {
                    for (t, e) in &w.assignments {
                        self.assign(t, Rhs::Expr, Some(e));
                    }
                    self.collect(&w.body, None);
                }
                Stmt::Set(st) => self.assign(&st.target, Rhs::Expr, Some(&st.expr)),
                Stmt::SetBlock(sb) => {
                    self.opaque(&sb.target);
                    let mut names = Vec::new();
                    target_names(&sb.target, &mut names);
                    for (name, _) in names {
                        let src = match &sb.filter {
                            Some(f) => Src::Value(f),
                            None => Src::Text,
                        };
                        self.nest.entry(nest_name(&name)).or_default().push(src);
                    }
                    self.collect(&sb.body, None);
                }
                Stmt::AutoEscape(a) => self.collect(&a.body, None),
                Stmt::FilterBlock(fb) => self.collect(&fb.body, None),
                Stmt::Macro(m) => {
                    self.macros.insert(m.name);
                    self.assigned
                        .entry(m.name.to_owned())
                        .or_default()
                        .push(Rhs::Opaque);
                    for a in &m.args {
                        self.opaque(a);
                    }
                    self.macro_decls.push(m);
                    self.collect(&m.body, None);
                }
                Stmt::CallBlock(cb) => {
                    for a in &cb.macro_decl.args {
                        self.opaque(a);
                    }
                    self.call_block_decls.push(&cb.macro_decl);
                    self.macro_calls.push(&cb.call);
                    self.collect(&cb.macro_decl.body, None);
                }
                Stmt::EmitExpr(e) => {
                    if let Expr::Call(c) = &e.expr {
                        self.macro_calls.push(c);
                    }
                }
                Stmt::Do(d) => self.macro_calls.push(&d.call),
                Stmt::Block(b) => self.collect(&b.body, None),
                _ => {}
            }
        }
    }

    fn fixpoints(&mut self) {
        // A namespace attribute is tracked only when every namespace is made by a named
        // `namespace(k=v, ...)` and only through that name is written: else a write through
        // another name (a macro parameter, an alias) could give it any value.
        let is_ns = |rhs: &Vec<Rhs<'a, 'e>>| {
            rhs.iter().all(|r| {
                matches!(r, Rhs::Expr(e @ Expr::Call(c)) if is_call_to(e, "namespace")
                    && c.args.iter().all(|a| matches!(a, CallArg::Kwarg(..))))
            })
        };
        let attrs: Vec<String> = self
            .assigned
            .keys()
            .filter(|n| n.contains('.'))
            .cloned()
            .collect();
        let tainted = attrs.iter().any(|n| {
            let base = n.split('.').next().unwrap_or_default();
            !self.assigned.get(base).is_some_and(is_ns)
        });
        if tainted {
            for n in &attrs {
                self.assigned
                    .entry(n.clone())
                    .or_default()
                    .push(Rhs::Opaque);
            }
        }
        // Loop targets over the context: the least fixpoint (loops over each other's
        // targets are no context), computed here once: following the names on each use
        // recursed forever on such loops, and took exponential time on a chain of them.
        for _ in 0..MAX_PASSES {
            let add: Vec<String> = self
                .assigned
                .iter()
                .filter(|(n, _)| !self.context.contains(*n))
                .filter(|(_, rhs)| {
                    rhs.iter()
                        .all(|r| matches!(r, Rhs::Item(i) if self.is_context(i)))
                })
                .map(|(n, _)| n.clone())
                .collect();
            if add.is_empty() {
                break;
            }
            self.context.extend(add);
        }
        // Numeric: the greatest fixpoint (a name is a number when all its assignments are,
        // given the names still assumed numbers): `n = n + 1` stays a number, and a name
        // starts undefined, which is no string either. It is computed in a bounded number of
        // passes; a template that needs more gets no numeric names (only more refusals).
        self.numeric = self.assigned.keys().cloned().collect();
        let mut stable = false;
        for _ in 0..MAX_PASSES {
            let drop: Vec<String> = self
                .numeric
                .iter()
                .filter(|n| {
                    self.assigned.get(*n).is_none_or(|rhs| {
                        !rhs.iter().all(|r| match r {
                            Rhs::Expr(e) => self.is_numeric(e),
                            Rhs::Item(e) => is_call_to(e, "range"),
                            Rhs::Opaque => false,
                        })
                    })
                })
                .cloned()
                .collect();
            if drop.is_empty() {
                stable = true;
                break;
            }
            for n in drop {
                self.numeric.remove(&n);
            }
        }
        if !stable {
            self.numeric.clear();
        }
        // Sizes: the least fixpoint, from no name (a name built from itself gets none).
        for _ in 0..MAX_PASSES {
            let add: Vec<(String, Size)> = self
                .assigned
                .iter()
                .filter(|(n, _)| !self.sizes.contains_key(*n))
                .filter_map(|(n, rhs)| {
                    let mut most = Size::default();
                    for r in rhs {
                        let s = match r {
                            Rhs::Item(e) if is_call_to(e, "range") => Some(Size::NUMBER),
                            Rhs::Expr(e) | Rhs::Item(e) => self.size(e),
                            Rhs::Opaque => None,
                        }?;
                        most = most.max(s);
                    }
                    Some((n.clone(), most))
                })
                .collect();
            if add.is_empty() {
                break;
            }
            self.sizes.extend(add);
        }
    }

    fn name_of(e: &Expr<'e>) -> Option<String> {
        match e {
            Expr::Var(v) => Some(v.id.to_owned()),
            Expr::GetAttr(g) => match &g.expr {
                Expr::Var(v) => Some(format!("{}.{}", v.id, g.name)),
                _ => None,
            },
            _ => None,
        }
    }

    /// A value from the phone's data: a context name, or an item of one.
    fn is_context(&self, e: &Expr<'e>) -> bool {
        match e {
            Expr::Var(v) => {
                (CONTEXT.contains(&v.id) && !self.assigned.contains_key(v.id))
                    || self.context.contains(v.id)
            }
            Expr::GetItem(g) => self.is_context(&g.expr),
            Expr::GetAttr(g) => self.is_context(&g.expr),
            _ => false,
        }
    }

    /// The value is a number or a boolean (or the expression fails).
    fn is_numeric(&self, e: &Expr<'e>) -> bool {
        match e {
            Expr::Const(c) => matches!(
                c.value.kind(),
                ValueKind::Number | ValueKind::Bool | ValueKind::None | ValueKind::Undefined
            ),
            Expr::Var(v) => self.numeric.contains(v.id),
            Expr::GetAttr(g) => {
                if let Expr::Var(v) = &g.expr {
                    if v.id == "loop" && !self.assigned.contains_key("loop") {
                        // `loop.previtem`, `loop.nextitem` are items; `cycle` a function.
                        return LOOP_NUMBERS.contains(&g.name);
                    }
                    let name = format!("{}.{}", v.id, g.name);
                    if self.assigned.contains_key(&name) {
                        return self.numeric.contains(&name);
                    }
                }
                INT_ATTRS.contains(&g.name) && self.is_context(&g.expr)
            }
            Expr::UnaryOp(_) | Expr::Compare(_) | Expr::Test(_) => true,
            Expr::BinOp(b) => match b.op {
                BinOpKind::Add | BinOpKind::Mul | BinOpKind::ScAnd | BinOpKind::ScOr => {
                    self.is_numeric(&b.left) && self.is_numeric(&b.right)
                }
                BinOpKind::Concat => false,
                _ => true,
            },
            Expr::IfExpr(i) => {
                self.is_numeric(&i.true_expr)
                    && i.false_expr.as_ref().is_none_or(|f| self.is_numeric(f))
            }
            Expr::Filter(f) => {
                NUMERIC_FILTERS.contains(&f.name)
                    || (matches!(f.name, "default" | "d")
                        && f.expr.as_ref().is_some_and(|x| self.is_numeric(x))
                        && f.args.iter().all(|a| match a {
                            CallArg::Pos(x) => self.is_numeric(x),
                            _ => false,
                        }))
            }
            _ => false,
        }
    }

    /// A `~` (or a `+` that is not between numbers).
    fn is_join(&self, e: &Expr<'e>) -> bool {
        match e {
            Expr::BinOp(b) => match b.op {
                BinOpKind::Concat => true,
                BinOpKind::Add => !self.is_numeric(&b.left) && !self.is_numeric(&b.right),
                _ => false,
            },
            _ => false,
        }
    }

    /// An upper bound of a number given as a literal or a name only ever bound to literals
    /// (`{% set w = 20 %}`).
    fn literal_number(&self, e: &Expr<'e>) -> Option<u64> {
        match e {
            Expr::Const(c) if c.value.kind() == ValueKind::Number => {
                u64::try_from(c.value.clone()).ok()
            }
            Expr::Var(v) => {
                let rhs = self.assigned.get(v.id)?;
                let mut most = None;
                for r in rhs {
                    let n = match r {
                        Rhs::Expr(x @ Expr::Const(_)) => self.literal_number(x)?,
                        _ => return None,
                    };
                    most = most.max(Some(n));
                }
                most
            }
            _ => None,
        }
    }

    /// The exact value of a literal number or of a name bound to one literal number only.
    fn exact_number(&self, e: &Expr<'e>) -> Option<i64> {
        match e {
            Expr::Const(c) => i64::try_from(c.value.clone()).ok(),
            Expr::Var(v) => match self.assigned.get(v.id)?.as_slice() {
                [Rhs::Expr(x @ Expr::Const(_))] => self.exact_number(x),
                _ => None,
            },
            _ => None,
        }
    }

    /// What `e` holds at most, if nothing in it was built beyond bounds: `None` for the
    /// result of a growing filter, a macro, a capture or a name built from itself.
    fn size(&self, e: &Expr<'e>) -> Option<Size> {
        if self.is_numeric(e) {
            return Some(Size::NUMBER);
        }
        match e {
            Expr::Const(c) => Some(Size {
                values: 0,
                text: c
                    .value
                    .as_str()
                    .map_or_else(|| c.value.to_string().len(), str::len)
                    as u64,
            }),
            Expr::Var(_) | Expr::GetAttr(_)
                if Self::name_of(e).is_some_and(|n| self.assigned.contains_key(&n)) =>
            {
                Self::name_of(e).and_then(|n| self.sizes.get(&n).copied())
            }
            // The context, `loop` and undefined names: one value of the phone's data.
            Expr::Var(_) => Some(Size::VALUE),
            Expr::GetAttr(g) => {
                let is_loop = matches!(&g.expr, Expr::Var(v) if v.id == "loop");
                if is_loop && matches!(g.name, "previtem" | "nextitem") {
                    // An item of whatever the loop runs over.
                    return None;
                }
                self.size(&g.expr)
            }
            Expr::GetItem(g) => self.size(&g.expr),
            Expr::Slice(s) => self.size(&s.expr),
            Expr::IfExpr(i) => {
                let f = match &i.false_expr {
                    Some(f) => self.size(f)?,
                    None => Size::default(),
                };
                Some(self.size(&i.true_expr)?.max(f))
            }
            Expr::BinOp(b) if self.is_join(e) => {
                Some(self.size(&b.left)?.plus(self.size(&b.right)?))
            }
            Expr::BinOp(b) if matches!(b.op, BinOpKind::Mul) => {
                self.repeated_size(&b.left, &b.right)
            }
            Expr::BinOp(b) if matches!(b.op, BinOpKind::ScAnd | BinOpKind::ScOr) => {
                Some(self.size(&b.left)?.max(self.size(&b.right)?))
            }
            Expr::Filter(f) if PASS_THROUGH.contains(&f.name) => {
                let mut most = match &f.expr {
                    Some(x) => self.size(x)?,
                    None => Size::default(),
                };
                for a in &f.args {
                    match a {
                        CallArg::Pos(x) | CallArg::Kwarg(_, x) => most = most.max(self.size(x)?),
                        _ => return None,
                    }
                }
                Some(most)
            }
            Expr::List(l) => l.items.iter().try_fold(Size::default(), |acc, i| {
                Some(acc.plus(self.size(i)?).plus(Size::ITEM))
            }),
            Expr::Map(m) => m
                .keys
                .iter()
                .chain(&m.values)
                .try_fold(Size::default(), |acc, i| {
                    Some(acc.plus(self.size(i)?).plus(Size::ITEM))
                }),
            _ => None,
        }
    }

    /// The size of `a * b` repeating literal text or a literal list (a literal count).
    fn repeated_size(&self, a: &Expr<'e>, b: &Expr<'e>) -> Option<Size> {
        let (n, x) = match (self.literal_number(a), self.literal_number(b)) {
            (Some(n), None) => (n, b),
            (None, Some(n)) => (n, a),
            _ => return None,
        };
        let s = self.size(x)?;
        (s.values == 0).then(|| Size {
            values: 0,
            text: s.text.saturating_mul(n),
        })
    }

    /// May be an operand of `~` or `+`: its size is known, or it is a result just charged
    /// to the budget (a growing filter). A value built earlier and kept in a name could be
    /// reused without being charged again.
    fn is_bounded(&self, e: &Expr<'e>) -> bool {
        self.size(e).is_some() || matches!(e, Expr::Filter(f) if !PASS_THROUGH.contains(&f.name))
    }

    fn stmts(&mut self, stmts: &'a [Stmt<'e>], cx: &Ctx) -> Result<()> {
        for s in stmts {
            self.stmt(s, cx)?;
        }
        Ok(())
    }

    fn capture(&self, cx: &Ctx, in_macro: Option<String>) -> Ctx {
        Ctx {
            capture: true,
            iterations: 1,
            in_macro: in_macro.or_else(|| cx.in_macro.clone()),
        }
    }

    fn stmt(&mut self, s: &'a Stmt<'e>, cx: &Ctx) -> Result<()> {
        match s {
            Stmt::Template(t) => self.stmts(&t.children, cx),
            Stmt::EmitExpr(e) => match &e.expr {
                // A macro's output may only be printed (and so charged).
                Expr::Call(c) if self.is_macro_call(c) => self.call(c, cx, true),
                other => self.expr(other, cx),
            },
            Stmt::EmitRaw(r) => {
                if cx.capture {
                    let n = (r.raw.len() as u64).saturating_mul(cx.iterations);
                    self.captured = self.captured.saturating_add(n);
                    if self.captured > MAX_CAPTURED_TEXT && self.captured_at.is_none() {
                        self.captured_at = Some(at(r.span()));
                    }
                }
                Ok(())
            }
            Stmt::ForLoop(f) => {
                if f.recursive {
                    let (l, c) = at(f.span());
                    return Err(refused(
                        l,
                        c,
                        "recursive loops are not available in templates".into(),
                    ));
                }
                self.expr(&f.iter, cx)?;
                if let Some(x) = &f.filter_expr {
                    self.expr(x, cx)?;
                }
                let mut inner = cx.clone();
                inner.iterations = cx
                    .iterations
                    .saturating_mul(self.iterations(&f.iter))
                    .min(MAX_ITERATIONS);
                self.stmts(&f.body, &inner)?;
                self.stmts(&f.else_body, cx)
            }
            Stmt::IfCond(i) => {
                self.expr(&i.expr, cx)?;
                self.stmts(&i.true_body, cx)?;
                self.stmts(&i.false_body, cx)
            }
            Stmt::WithBlock(w) => {
                for (_, e) in &w.assignments {
                    self.expr(e, cx)?;
                }
                self.stmts(&w.body, cx)
            }
            Stmt::Set(st) => self.expr(&st.expr, cx),
            Stmt::SetBlock(sb) => {
                if let Some(f) = &sb.filter {
                    self.expr(f, cx)?;
                }
                let inner = self.capture(cx, None);
                self.stmts(&sb.body, &inner)
            }
            Stmt::AutoEscape(a) => {
                self.expr(&a.enabled, cx)?;
                self.stmts(&a.body, cx)
            }
            Stmt::FilterBlock(fb) => {
                self.expr(&fb.filter, cx)?;
                let inner = self.capture(cx, None);
                self.stmts(&fb.body, &inner)
            }
            Stmt::Macro(m) => {
                for d in &m.defaults {
                    self.expr(d, cx)?;
                }
                let inner = self.capture(cx, Some(m.name.to_owned()));
                self.stmts(&m.body, &inner)
            }
            Stmt::CallBlock(cb) => {
                self.call(&cb.call, cx, true)?;
                let inner = self.capture(cx, Some(String::new()));
                self.stmts(&cb.macro_decl.body, &inner)
            }
            Stmt::Do(d) => self.call(&d.call, cx, true),
            Stmt::Block(b) => unsupported(b.span(), "block"),
            Stmt::Extends(x) => unsupported(x.span(), "extends"),
            Stmt::Include(x) => unsupported(x.span(), "include"),
            Stmt::Import(x) => unsupported(x.span(), "import"),
            Stmt::FromImport(x) => unsupported(x.span(), "import"),
        }
    }

    fn is_macro_call(&self, c: &ast::Call<'e>) -> bool {
        matches!(&c.expr, Expr::Var(v) if self.macros.contains(v.id) || v.id == "caller")
    }

    fn call(&mut self, c: &'a ast::Spanned<ast::Call<'e>>, cx: &Ctx, printed: bool) -> Result<()> {
        let (l, col) = at(c.span());
        match &c.expr {
            Expr::Var(v) if self.macros.contains(v.id) || v.id == "caller" => {
                if !printed {
                    return Err(refused(
                        l,
                        col,
                        format!("the output of macro `{}` can only be printed ({{{{ {}(...) }}}})", v.id, v.id),
                    ));
                }
                let callee = if v.id == "caller" { String::new() } else { v.id.to_owned() };
                if let Some(from) = &cx.in_macro {
                    self.calls.push((from.clone(), callee, (l, col)));
                }
            }
            Expr::Var(v) if FUNCTIONS.contains(&v.id) => {}
            Expr::GetAttr(g)
                if matches!(&g.expr, Expr::Var(v) if v.id == "loop")
                    && matches!(g.name, "cycle" | "changed") => {}
            _ => {
                return Err(refused(
                    l,
                    col,
                    format!(
                        "only these functions can be called in a template: {}, and the template's own macros",
                        FUNCTIONS.join(", ")
                    ),
                ))
            }
        }
        for a in &c.args {
            match a {
                CallArg::Pos(x)
                | CallArg::Kwarg(_, x)
                | CallArg::PosSplat(x)
                | CallArg::KwargSplat(x) => self.expr(x, cx)?,
            }
        }
        Ok(())
    }

    fn expr(&mut self, e: &'a Expr<'e>, cx: &Ctx) -> Result<()> {
        if self.depth(e) > MAX_NESTING {
            let (l, c) = at(e.span());
            return Err(refused(
                l,
                c,
                format!(
                    "this value may nest more than {MAX_NESTING} levels deep (lists, dicts or namespaces inside each other): \
                     it is built from a name that holds what it builds, as `{{% set ns.x = [ns.x] %}}` in a loop nests once \
                     more each time, and so deep a value exhausts the stack when it is printed, compared or freed; \
                     keep the values flat (collect them with filters: `{{{{ blf|map(attribute='extension')|join(',') }}}}`)"
                ),
            ));
        }
        match e {
            Expr::Var(_) | Expr::Const(_) => Ok(()),
            Expr::Slice(s) => {
                self.expr(&s.expr, cx)?;
                for x in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.expr(x, cx)?;
                }
                Ok(())
            }
            Expr::UnaryOp(u) => self.expr(&u.expr, cx),
            Expr::BinOp(b) if self.is_join(e) => self.join(e, b, cx),
            Expr::BinOp(b) => {
                self.expr(&b.left, cx)?;
                self.expr(&b.right, cx)?;
                self.binop(b)
            }
            Expr::Compare(c) => {
                self.expr(&c.expr, cx)?;
                for o in &c.ops {
                    self.expr(&o.expr, cx)?;
                }
                Ok(())
            }
            Expr::IfExpr(i) => {
                self.expr(&i.test_expr, cx)?;
                self.expr(&i.true_expr, cx)?;
                if let Some(f) = &i.false_expr {
                    self.expr(f, cx)?;
                }
                Ok(())
            }
            Expr::Filter(f) => {
                if !FILTERS.contains(&f.name) {
                    let (l, c) = at(f.span());
                    return Err(refused(
                        l,
                        c,
                        format!(
                            "filter `{}` is not available in templates; available: {}",
                            f.name,
                            FILTERS.join(", ")
                        ),
                    ));
                }
                if let Some(x) = &f.expr {
                    self.expr(x, cx)?;
                }
                self.args(&f.args, cx)
            }
            Expr::Test(t) => {
                self.expr(&t.expr, cx)?;
                self.args(&t.args, cx)
            }
            Expr::GetAttr(g) => self.expr(&g.expr, cx),
            Expr::GetItem(g) => {
                self.expr(&g.expr, cx)?;
                self.expr(&g.subscript_expr, cx)
            }
            Expr::Call(c) => self.call(c, cx, false),
            Expr::List(l) => {
                for i in &l.items {
                    self.expr(i, cx)?;
                }
                Ok(())
            }
            Expr::Map(m) => {
                for i in m.keys.iter().chain(&m.values) {
                    self.expr(i, cx)?;
                }
                Ok(())
            }
        }
    }

    fn args(&mut self, args: &'a [CallArg<'e>], cx: &Ctx) -> Result<()> {
        for a in args {
            match a {
                CallArg::Pos(x)
                | CallArg::Kwarg(_, x)
                | CallArg::PosSplat(x)
                | CallArg::KwargSplat(x) => self.expr(x, cx)?,
            }
        }
        Ok(())
    }

    /// The operands of the join rooted at `e` (its nested joins flattened), each checked.
    fn join_operands(
        &mut self,
        e: &'a Expr<'e>,
        cx: &Ctx,
        out: &mut Vec<&'a Expr<'e>>,
    ) -> Result<()> {
        match e {
            Expr::BinOp(b) if self.is_join(e) => {
                self.join_operands(&b.left, cx, out)?;
                self.join_operands(&b.right, cx, out)
            }
            _ => {
                self.expr(e, cx)?;
                out.push(e);
                Ok(())
            }
        }
    }

    /// A join (`~`, or `+` not between numbers): each operand bounded, and the values and
    /// text it holds (a name counting what it was joined from) within the limits.
    fn join(&mut self, e: &'a Expr<'e>, b: &ast::Spanned<ast::BinOp<'e>>, cx: &Ctx) -> Result<()> {
        let mut operands = Vec::new();
        self.join_operands(e, cx, &mut operands)?;
        let (l, c) = at(b.span());
        let op = if matches!(b.op, BinOpKind::Concat) {
            "~"
        } else {
            "+"
        };
        let mut total = Size::default();
        for x in operands {
            if !self.is_bounded(x) {
                return Err(refused(
                    l,
                    c,
                    format!(
                        "`{op}` cannot join a value that was itself built in the template (with a filter, a macro, a block, \
                         or from itself, as in a loop adding to a namespace): repeated, such joins double a value's size; \
                         print the parts one after the other instead, or collect a list's values with the `join` filter \
                         (`{{{{ blf|map(attribute='extension')|join(',') }}}}`)"
                    ),
                ));
            }
            // A growing filter's result is charged to the budget: one value.
            total = total.plus(self.size(x).unwrap_or(Size::VALUE));
        }
        if total.values > MAX_JOINED as u64 {
            return Err(refused(
                l,
                c,
                format!("a chain of `~` or `+` may join at most {MAX_JOINED} values that are not literals (counting those a name was joined from)"),
            ));
        }
        self.joined = self.joined.plus(total);
        if self.joined.values > MAX_JOINED_TOTAL || self.joined.text > MAX_JOINED_TEXT {
            return Err(refused(
                l,
                c,
                format!(
                    "the template's joins (`~`, `+`) together hold more than {MAX_JOINED_TOTAL} values or {} KiB of literal text \
                     (a name counts what it was joined from, each time it is used); print the parts instead",
                    MAX_JOINED_TEXT >> 10
                ),
            ));
        }
        Ok(())
    }

    /// `*` between values that are not both numbers repeats: only a literal by a literal
    /// count, within [`MAX_REPEAT_BYTES`] for the whole template.
    fn binop(&mut self, b: &ast::Spanned<ast::BinOp<'e>>) -> Result<()> {
        if !matches!(b.op, BinOpKind::Mul)
            || (self.is_numeric(&b.left) && self.is_numeric(&b.right))
        {
            return Ok(());
        }
        let (l, c) = at(b.span());
        let bytes = self
            .repeated_size(&b.left, &b.right)
            .map_or(u64::MAX, |s| s.text);
        self.repeated = self.repeated.saturating_add(bytes);
        if self.repeated > MAX_REPEAT_BYTES {
            return Err(refused(
                l,
                c,
                format!(
                    "`*` repeats text or a list only when both are literals, and all repetitions together make at most {} KiB (`\"-\" * 20`); between numbers it multiplies",
                    MAX_REPEAT_BYTES >> 10
                ),
            ));
        }
        Ok(())
    }

    /// Refuses a macro that can reach itself (each level would hold its captured output),
    /// and calls between macros nested deeper than [`MAX_MACRO_DEPTH`] (each level of a
    /// render's calls recurses on the stack). One depth-first walk, linear in the calls:
    /// a walk from every macro took seconds on a template of many macros.
    fn recursion(&self) -> Result<()> {
        let mut ids: std::collections::HashMap<&str, usize> = Default::default();
        let mut names: Vec<&str> = Vec::new();
        let mut edges: Vec<Vec<(usize, (usize, usize))>> = Vec::new();
        for (from, to, pos) in &self.calls {
            let mut ends = [0; 2];
            for (end, n) in ends.iter_mut().zip([from.as_str(), to.as_str()]) {
                let next = names.len();
                *end = *ids.entry(n).or_insert(next);
                if *end == next {
                    names.push(n);
                    edges.push(Vec::new());
                }
            }
            edges[ends[0]].push((ends[1], *pos));
        }
        let name = |i: usize| {
            if names[i].is_empty() {
                "caller"
            } else {
                names[i]
            }
        };
        // 0: not seen, 1: on the walk's path, 2: done (its depth known).
        let mut state = vec![0u8; names.len()];
        let mut depth = vec![0usize; names.len()];
        for start in 0..names.len() {
            if state[start] != 0 {
                continue;
            }
            state[start] = 1;
            let mut path = vec![(start, 0usize)];
            while let Some((u, next)) = path.last_mut() {
                let u = *u;
                if let Some(&(v, pos)) = edges[u].get(*next) {
                    *next += 1;
                    match state[v] {
                        1 => {
                            return Err(refused(
                                pos.0,
                                pos.1,
                                format!("macro `{}` calls itself (directly or through another macro); recursion is not available in templates", name(v)),
                            ))
                        }
                        0 => {
                            state[v] = 1;
                            path.push((v, 0));
                        }
                        _ => {}
                    }
                    continue;
                }
                // Every callee is done: this macro's depth is the deepest callee's plus one.
                if let Some(&(v, pos)) = edges[u].iter().max_by_key(|(v, _)| depth[*v]) {
                    depth[u] = depth[v] + 1;
                    if depth[u] > MAX_MACRO_DEPTH {
                        return Err(refused(
                            pos.0,
                            pos.1,
                            format!(
                                "macros call each other more than {MAX_MACRO_DEPTH} deep (`{}` calls `{}`, ...); each level of calls takes stack",
                                name(u),
                                name(v)
                            ),
                        ));
                    }
                }
                state[u] = 2;
                path.pop();
            }
        }
        Ok(())
    }
}

/// The nesting analysis's name for an assigned name (`ns.x`: `.x`, see [`Checker::nest`]).
fn nest_name(name: &str) -> String {
    match name.split_once('.') {
        Some((_, attr)) => format!(".{attr}"),
        None => name.to_owned(),
    }
}

/// How deep a literal nests.
fn value_depth(v: &Value) -> u32 {
    let Ok(items) = v.try_iter() else {
        return 0;
    };
    if !matches!(v.kind(), ValueKind::Seq | ValueKind::Map) {
        return 0;
    }
    let is_map = v.kind() == ValueKind::Map;
    items
        .map(|k| {
            let value = if is_map { v.get_item(&k).ok() } else { None };
            value_depth(&k).max(value.as_ref().map_or(0, value_depth))
        })
        .max()
        .unwrap_or(0)
        .saturating_add(1)
        .min(UNBOUNDED)
}

/// The nesting analysis: an upper bound of how deep the value of each name nests, so that
/// a value built from itself (`{% set ns.x = [ns.x] %}` in a loop, nesting once more per
/// iteration) is refused where it is built. Flow- and scope-insensitive like the rest of
/// the check: a name's bound holds for all its assignments.
impl<'a, 'e> Checker<'a, 'e> {
    /// Binds macro parameters to their calls' arguments, then computes the least fixpoint
    /// of the bounds (saturating at [`UNBOUNDED`]) with a worklist: a name is evaluated
    /// again only when a name it reads grew, at most [`UNBOUNDED`] times each.
    fn nesting(&mut self) {
        self.bind_params();
        let names: Vec<String> = self.nest.keys().cloned().collect();
        // Who reads each name (`#attrs`: the deepest attribute, read by `namespace(...)`).
        let mut readers: std::collections::HashMap<String, Vec<String>> = Default::default();
        for n in &names {
            let mut read = Vec::new();
            for s in &self.nest[n] {
                if let Src::Value(e) | Src::Item(e) | Src::Wrapped(e) = *s {
                    self.reads(e, &mut read);
                }
            }
            read.sort();
            read.dedup();
            for r in read {
                readers.entry(r).or_default().push(n.clone());
            }
            if n.starts_with('.') {
                readers.entry(ATTRS.to_owned()).or_default();
            }
        }
        let attrs: Vec<String> = names
            .iter()
            .filter(|n| n.starts_with('.'))
            .cloned()
            .collect();
        let mut queue: std::collections::VecDeque<String> = names.iter().cloned().collect();
        let mut queued: std::collections::HashSet<String> = names.iter().cloned().collect();
        while let Some(n) = queue.pop_front() {
            queued.remove(&n);
            let d = self.nest[&n]
                .iter()
                .map(|s| match *s {
                    Src::Value(e) => self.depth(e),
                    Src::Item(e) => self.depth(e).saturating_sub(1),
                    Src::Wrapped(e) => self.depth(e).saturating_add(1),
                    Src::Text => 0,
                })
                .max()
                .unwrap_or(0)
                .min(UNBOUNDED);
            if d <= self.named(&n) {
                continue;
            }
            self.nest_depth.insert(n.clone(), d);
            let mut grown = vec![n.clone()];
            if n.starts_with('.') && d > self.attrs_depth {
                self.attrs_depth = attrs.iter().map(|a| self.named(a)).max().unwrap_or(0);
                grown.push(ATTRS.to_owned());
            }
            for g in grown {
                for r in readers.get(&g).into_iter().flatten() {
                    if queued.insert(r.clone()) {
                        queue.push_back(r.clone());
                    }
                }
            }
        }
    }

    /// The names of the analysis `e` reads (a superset).
    fn reads(&self, e: &Expr<'e>, out: &mut Vec<String>) {
        match e {
            Expr::Var(v) => {
                out.push(v.id.to_owned());
                if v.id == "loop" {
                    out.push(LOOP_ITEM.to_owned());
                }
            }
            Expr::Const(_) => {}
            Expr::GetAttr(g) => {
                out.push(format!(".{}", g.name));
                out.push(".*".to_owned());
                out.push(LOOP_ITEM.to_owned());
                self.reads(&g.expr, out);
            }
            Expr::GetItem(g) => {
                self.reads(&g.expr, out);
                self.reads(&g.subscript_expr, out);
            }
            Expr::Slice(s) => {
                self.reads(&s.expr, out);
                for x in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.reads(x, out);
                }
            }
            Expr::UnaryOp(u) => self.reads(&u.expr, out),
            Expr::BinOp(b) => {
                self.reads(&b.left, out);
                self.reads(&b.right, out);
            }
            Expr::Compare(c) => {
                self.reads(&c.expr, out);
                for o in &c.ops {
                    self.reads(&o.expr, out);
                }
            }
            Expr::IfExpr(i) => {
                self.reads(&i.test_expr, out);
                self.reads(&i.true_expr, out);
                if let Some(f) = &i.false_expr {
                    self.reads(f, out);
                }
            }
            Expr::Filter(f) => {
                if let Some(x) = &f.expr {
                    self.reads(x, out);
                }
                self.args_reads(&f.args, out);
            }
            Expr::Test(t) => {
                self.reads(&t.expr, out);
                self.args_reads(&t.args, out);
            }
            Expr::Call(c) => {
                out.push(ATTRS.to_owned());
                self.reads(&c.expr, out);
                self.args_reads(&c.args, out);
            }
            Expr::List(l) => {
                for i in &l.items {
                    self.reads(i, out);
                }
            }
            Expr::Map(m) => {
                for i in m.keys.iter().chain(&m.values) {
                    self.reads(i, out);
                }
            }
        }
    }

    fn args_reads(&self, args: &[CallArg<'e>], out: &mut Vec<String>) {
        for a in args {
            let (CallArg::Pos(x)
            | CallArg::Kwarg(_, x)
            | CallArg::PosSplat(x)
            | CallArg::KwargSplat(x)) = a;
            self.reads(x, out);
        }
    }

    /// A macro's parameters get the arguments of its calls (by position or name; a splat's
    /// items to every one) and its defaults; a `call` block's parameters those of every
    /// `caller(...)`. `varargs` and `kwargs` hold any argument, in a list or a map.
    fn bind_params(&mut self) {
        for c in std::mem::take(&mut self.macro_calls) {
            let Expr::Var(callee) = &c.expr else { continue };
            let decls: Vec<&'a ast::Macro<'e>> = if callee.id == "caller" {
                self.call_block_decls.clone()
            } else {
                self.macro_decls
                    .iter()
                    .copied()
                    .filter(|m| m.name == callee.id)
                    .collect()
            };
            for m in decls {
                let params: Vec<String> = m
                    .args
                    .iter()
                    .filter_map(Self::name_of)
                    .map(|n| nest_name(&n))
                    .collect();
                let mut position = 0;
                for a in &c.args {
                    let (to, src): (Vec<&String>, Src<'a, 'e>) = match a {
                        CallArg::Pos(x) => {
                            position += 1;
                            (
                                params.get(position - 1).into_iter().collect(),
                                Src::Value(x),
                            )
                        }
                        CallArg::Kwarg(k, x) => {
                            (params.iter().filter(|p| p == k).collect(), Src::Value(x))
                        }
                        CallArg::PosSplat(x) | CallArg::KwargSplat(x) => {
                            (params.iter().collect(), Src::Item(x))
                        }
                    };
                    for p in to {
                        self.nest.entry(p.clone()).or_default().push(src);
                    }
                }
            }
            for a in &c.args {
                let (CallArg::Pos(x)
                | CallArg::Kwarg(_, x)
                | CallArg::PosSplat(x)
                | CallArg::KwargSplat(x)) = a;
                for n in ["varargs", "kwargs"] {
                    self.nest
                        .entry(n.to_owned())
                        .or_default()
                        .push(Src::Wrapped(x));
                }
            }
        }
        for m in self.macro_decls.clone() {
            let skip = m.args.len().saturating_sub(m.defaults.len());
            for (p, d) in m.args.iter().skip(skip).zip(&m.defaults) {
                if let Some(n) = Self::name_of(p) {
                    self.nest
                        .entry(nest_name(&n))
                        .or_default()
                        .push(Src::Value(d));
                }
            }
        }
    }

    /// The bound of a name of the analysis.
    fn named(&self, n: &str) -> u32 {
        self.nest_depth.get(n).copied().unwrap_or(0)
    }

    /// A name every assignment of which is `namespace(k=v, ...)`: its attributes are
    /// tracked by name.
    fn is_namespace(&self, id: &str) -> bool {
        self.assigned.get(id).is_some_and(|rhs| {
            !rhs.is_empty()
                && rhs.iter().all(|r| {
                    matches!(r, Rhs::Expr(e @ Expr::Call(c)) if is_call_to(e, "namespace")
                        && c.args.iter().all(|a| matches!(a, CallArg::Kwarg(..))))
                })
        })
    }

    fn args_depth(&self, args: &[CallArg<'e>]) -> u32 {
        args.iter()
            .map(|a| match a {
                CallArg::Pos(x)
                | CallArg::Kwarg(_, x)
                | CallArg::PosSplat(x)
                | CallArg::KwargSplat(x) => self.depth(x),
            })
            .max()
            .unwrap_or(0)
    }

    /// How deep the value of `e` nests at most (a string or a number: 0), up to
    /// [`UNBOUNDED`].
    fn depth(&self, e: &Expr<'e>) -> u32 {
        let d = match e {
            Expr::Const(c) => value_depth(&c.value),
            Expr::Var(v) if self.nest.contains_key(v.id) => self.named(v.id),
            // The loop object holds the previous and the next item.
            Expr::Var(v) if v.id == "loop" => self.named(LOOP_ITEM).saturating_add(2),
            Expr::Var(_) => CONTEXT_NESTING,
            Expr::GetAttr(g) => match &g.expr {
                Expr::Var(v) if self.is_namespace(v.id) => {
                    self.named(&format!(".{}", g.name)).max(self.named(".*"))
                }
                Expr::Var(v) if v.id == "loop" && !self.nest.contains_key("loop") => {
                    if matches!(g.name, "previtem" | "nextitem") {
                        self.named(LOOP_ITEM)
                    } else {
                        0
                    }
                }
                x => self.depth(x).saturating_sub(1),
            },
            Expr::GetItem(g) => self.depth(&g.expr).saturating_sub(1),
            Expr::Slice(s) => self.depth(&s.expr),
            Expr::UnaryOp(_) | Expr::Compare(_) | Expr::Test(_) => 0,
            Expr::BinOp(b) if matches!(b.op, BinOpKind::Concat) => 0,
            // `+` of two lists, `*` repeating one, `and`/`or` giving an operand.
            Expr::BinOp(b) => self.depth(&b.left).max(self.depth(&b.right)),
            Expr::IfExpr(i) => self
                .depth(&i.true_expr)
                .max(i.false_expr.as_ref().map_or(0, |f| self.depth(f))),
            Expr::Filter(f) => {
                let d = f.expr.as_ref().map_or(0, |x| self.depth(x));
                let a = self.args_depth(&f.args);
                match f.name {
                    "capitalize" | "e" | "escape" | "format" | "indent" | "join" | "lower"
                    | "replace" | "string" | "title" | "upper" => 0,
                    n if NUMERIC_FILTERS.contains(&n) => 0,
                    n if PASS_THROUGH.contains(&n) => d.max(a),
                    // Lists of the input's items (a string's: of its characters).
                    "list" | "sort" | "unique" | "reverse" | "select" | "reject" | "selectattr"
                    | "rejectattr" | "split" | "lines" => d.max(1),
                    // Applies a filter named in its arguments to each item.
                    "map" => d
                        .max(a)
                        .saturating_add(2)
                        .saturating_add(f.args.len() as u32),
                    // `batch`, `slice`, `items`, `dictsort`: lists of lists or pairs.
                    _ => d.max(a).saturating_add(2),
                }
            }
            Expr::Call(c) => match &c.expr {
                Expr::Var(v) if v.id == "range" => 1,
                Expr::Var(v) if v.id == "namespace" => self
                    .attrs_depth
                    .max(self.args_depth(&c.args))
                    .saturating_add(1),
                // A macro's output is a string.
                Expr::Var(v) if self.macros.contains(v.id) || v.id == "caller" => 0,
                Expr::GetAttr(g)
                    if matches!(&g.expr, Expr::Var(v) if v.id == "loop") && g.name == "changed" =>
                {
                    0
                }
                // `dict(...)`, and one of its arguments for `loop.cycle(...)`.
                _ => self.args_depth(&c.args).saturating_add(1),
            },
            Expr::List(l) => l
                .items
                .iter()
                .map(|i| self.depth(i))
                .max()
                .unwrap_or(0)
                .saturating_add(1),
            Expr::Map(m) => m
                .keys
                .iter()
                .chain(&m.values)
                .map(|i| self.depth(i))
                .max()
                .unwrap_or(0)
                .saturating_add(1),
        };
        d.min(UNBOUNDED)
    }
}

fn unsupported(span: minijinja::machinery::Span, what: &str) -> Result<()> {
    let (l, c) = at(span);
    Err(refused(
        l,
        c,
        format!("`{what}` is not available: a template is one file"),
    ))
}

fn is_call_to(e: &Expr<'_>, name: &str) -> bool {
    matches!(e, Expr::Call(c) if matches!(&c.expr, Expr::Var(v) if v.id == name))
}

/// Worst-case iterations of a loop over `e`: a literal list's length, a range's count
/// from literals (or names bound to literal numbers), the context's lists at their caps
/// (also filtered, sorted or batched), else what fuel allows.
impl<'e> Checker<'_, 'e> {
    fn iterations(&self, e: &Expr<'e>) -> u64 {
        let n = match e {
            Expr::List(l) => l.items.len() as u64,
            Expr::Var(v) if !self.assigned.contains_key(v.id) && v.id == "blf" => {
                MAX_BLF_KEYS as u64
            }
            Expr::Var(v) if !self.assigned.contains_key(v.id) && v.id == "lines" => {
                MAX_LINES as u64
            }
            Expr::Slice(s) => self.iterations(&s.expr),
            Expr::Filter(f)
                if matches!(
                    f.name,
                    "select"
                        | "reject"
                        | "selectattr"
                        | "rejectattr"
                        | "sort"
                        | "reverse"
                        | "unique"
                        | "list"
                        | "map"
                        | "batch"
                ) =>
            {
                f.expr
                    .as_ref()
                    .map_or(MAX_ITERATIONS, |x| self.iterations(x))
            }
            Expr::Call(c) if is_call_to(e, "range") => match c.args.as_slice() {
                [CallArg::Pos(n)] => self
                    .literal_number(n)
                    .or_else(|| self.count_of(n))
                    .unwrap_or(MAX_ITERATIONS),
                args => {
                    let lit: Option<Vec<i64>> = args
                        .iter()
                        .map(|a| match a {
                            CallArg::Pos(x) => self.exact_number(x),
                            _ => None,
                        })
                        .collect();
                    let n = match lit.as_deref() {
                        Some([a, b]) => b.saturating_sub(*a),
                        Some([a, b, s]) if *s > 0 => b.saturating_sub(*a) / s + 1,
                        Some([a, b, s]) if *s < 0 => a.saturating_sub(*b) / -s + 1,
                        _ => return MAX_ITERATIONS,
                    };
                    u64::try_from(n.max(0)).unwrap_or(MAX_ITERATIONS)
                }
            },
            _ => MAX_ITERATIONS,
        };
        n.min(MAX_ITERATIONS)
    }

    /// `x|length` (or `count`) of a sequence whose length is bounded.
    fn count_of(&self, e: &Expr<'e>) -> Option<u64> {
        match e {
            Expr::Filter(f) if matches!(f.name, "length" | "count") && f.args.is_empty() => {
                let n = self.iterations(f.expr.as_ref()?);
                (n < MAX_ITERATIONS).then_some(n)
            }
            _ => None,
        }
    }
}

// ---- the render-time budget

thread_local! {
    /// Bytes charged to the current render (one render at a time per thread).
    static USED: Cell<usize> = const { Cell::new(0) };
    /// Why the current render was stopped by a bound, if it was.
    static STOPPED: Cell<Option<&'static str>> = const { Cell::new(None) };
}

const OVER_BUDGET: &str = "the template produces more than 8 MiB (printed values and filter results); a phone's config is far smaller";
const OVER_OUTPUT: &str =
    "the template's output is larger than 4 MiB; a phone's config is far smaller";

/// Starts a render's accounting.
pub(crate) fn begin() {
    USED.with(|u| u.set(0));
    STOPPED.with(|s| s.set(None));
}

/// The bound that stopped the current render, if one did.
pub(crate) fn stopped() -> Option<&'static str> {
    STOPPED.with(Cell::get)
}

fn stop(why: &'static str) -> minijinja::Error {
    STOPPED.with(|s| s.set(Some(why)));
    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, why)
}

/// Fails when `bytes` more would exceed the budget, without charging them.
fn fits(bytes: usize) -> std::result::Result<(), minijinja::Error> {
    if USED.with(Cell::get).saturating_add(bytes) > BUDGET_BYTES {
        Err(stop(OVER_BUDGET))
    } else {
        Ok(())
    }
}

/// Charges `bytes` to the render.
pub(crate) fn charge(bytes: usize) -> std::result::Result<(), minijinja::Error> {
    fits(bytes)?;
    USED.with(|u| u.set(u.get().saturating_add(bytes)));
    Ok(())
}

/// Charges what `value` prints as (the formatter: every printed value, also into a
/// macro's or block's captured output).
pub(crate) fn charge_printed(value: &Value) -> std::result::Result<(), minijinja::Error> {
    charge(display_len(value, remaining().saturating_add(1)))
}

/// Counts what a value prints as, without allocating, stopping past `limit`.
fn display_len(v: &Value, limit: usize) -> usize {
    struct Count(usize, usize);
    impl fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0 = self.0.saturating_add(s.len());
            if self.0 > self.1 {
                Err(fmt::Error)
            } else {
                Ok(())
            }
        }
    }
    if let Some(s) = v.as_str() {
        return s.len();
    }
    let mut c = Count(0, limit);
    let _ = fmt::write(&mut c, format_args!("{v}"));
    c.0
}

fn remaining() -> usize {
    BUDGET_BYTES.saturating_sub(USED.with(Cell::get))
}

/// Items in a value, counting at most past the budget.
fn items(v: &Value) -> usize {
    if let Some(s) = v.as_str() {
        return s.len();
    }
    if let Some(n) = v.len() {
        return n;
    }
    let cap = remaining() / ITEM_BYTES + 1;
    v.try_iter().map_or(0, |it| it.take(cap).count())
}

fn string_of(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

type Builtin = fn() -> Value;

/// Replaces the builtins that can grow their input with versions that check their worst
/// case against the budget before they allocate, and removes the filters and functions a
/// template may not use (the static check refuses them first; this is the second lock).
pub(crate) fn install(env: &mut Environment<'static>) {
    use minijinja::filters as f;
    // Worst-case bytes of a filter's result, from its arguments.
    let wrap = |env: &mut Environment<'static>,
                name: &'static str,
                builtin: Builtin,
                worst: fn(&[Value]) -> usize| {
        let b = builtin();
        env.add_filter(
            name,
            move |state: &State,
                  args: Rest<Value>|
                  -> std::result::Result<Value, minijinja::Error> {
                fits(worst(&args))?;
                let out = b.call(state, &args)?;
                charge(if out.kind() == ValueKind::String {
                    out.as_str().map_or(0, str::len)
                } else {
                    items(&out).saturating_mul(ITEM_BYTES)
                })?;
                Ok(out)
            },
        );
    };
    // Case changes grow UTF-8 by at most 3x; escaping by at most 6x ("&" -> "&amp;").
    fn len_x(a: &[Value], k: usize) -> usize {
        a.first()
            .map_or(0, |v| display_len(v, remaining()))
            .saturating_mul(k)
    }
    wrap(
        env,
        "upper",
        || Value::from_function(f::upper),
        |a| len_x(a, 3),
    );
    wrap(
        env,
        "lower",
        || Value::from_function(f::lower),
        |a| len_x(a, 3),
    );
    wrap(
        env,
        "title",
        || Value::from_function(f::title),
        |a| len_x(a, 3),
    );
    wrap(
        env,
        "capitalize",
        || Value::from_function(f::capitalize),
        |a| len_x(a, 3),
    );
    wrap(
        env,
        "escape",
        || Value::from_function(f::escape),
        |a| len_x(a, 6),
    );
    wrap(
        env,
        "e",
        || Value::from_function(f::escape),
        |a| len_x(a, 6),
    );
    wrap(
        env,
        "string",
        || Value::from_function(f::string),
        |a| len_x(a, 1),
    );
    wrap(
        env,
        "replace",
        || Value::from_function(f::replace),
        |a| {
            let (Some(v), Some(from), Some(to)) = (a.first(), a.get(1), a.get(2)) else {
                return 0;
            };
            let (s, from, to) = (string_of(v), string_of(from), display_len(to, remaining()));
            let n = if from.is_empty() {
                s.chars().count() + 1
            } else {
                s.matches(from.as_str()).count()
            };
            // Inside an auto-escaped block the value may be escaped first.
            s.len()
                .saturating_mul(6)
                .saturating_add(n.saturating_mul(to.saturating_mul(6)))
        },
    );
    wrap(
        env,
        "indent",
        || Value::from_function(f::indent),
        |a| {
            let Some(v) = a.first() else { return 0 };
            let len = display_len(v, remaining());
            let lines = string_of(v).lines().count() + 1;
            // The width: a number, or a string (kwargs); the largest argument counts.
            let width = a[1..]
                .iter()
                .map(|w| {
                    w.as_usize()
                        .or_else(|| w.as_str().map(str::len))
                        .unwrap_or_else(|| {
                            w.try_iter().map_or(0, |keys| {
                                keys.filter_map(|k| w.get_item(&k).ok())
                                    .map(|x| {
                                        x.as_usize().unwrap_or_else(|| display_len(&x, remaining()))
                                    })
                                    .max()
                                    .unwrap_or(0)
                            })
                        })
                })
                .max()
                .unwrap_or(0)
                .max(4);
            len.saturating_add(lines.saturating_mul(width))
        },
    );
    wrap(
        env,
        "join",
        || Value::from_function(f::join),
        |a| {
            let Some(v) = a.first() else { return 0 };
            let sep = a.get(1).map_or(0, |s| display_len(s, remaining()));
            let mut total = 0usize;
            let budget = remaining();
            if let Ok(it) = v.try_iter() {
                for item in it {
                    total = total
                        .saturating_add(display_len(&item, budget))
                        .saturating_add(sep);
                    if total > budget {
                        break;
                    }
                }
            }
            // Items may be escaped by 6x in an auto-escaped block.
            total.saturating_mul(6)
        },
    );
    wrap(
        env,
        "format",
        || Value::from_function(f::format),
        |a| {
            let Some(fmt) = a.first() else { return 0 };
            let s = string_of(fmt);
            // Each `%` directive prints an argument (a named one can be printed many times),
            // padded to its width.
            let widest = a[1..]
                .iter()
                .map(|x| {
                    if x.kind() == ValueKind::Map {
                        x.try_iter().map_or(0, |keys| {
                            keys.filter_map(|k| x.get_item(&k).ok())
                                .map(|v| display_len(&v, remaining()))
                                .max()
                                .unwrap_or(0)
                        })
                    } else {
                        display_len(x, remaining())
                    }
                })
                .max()
                .unwrap_or(0);
            let directives = s.matches('%').count();
            let widths: usize = s
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|d| {
                    d.parse::<usize>()
                        .ok()
                        .or(if d.is_empty() { None } else { Some(usize::MAX) })
                })
                .fold(0usize, usize::saturating_add);
            s.len()
                .saturating_add(directives.saturating_mul(widest))
                .saturating_add(widths)
                .saturating_mul(6)
        },
    );
    // Filters building a sequence: an item per element (a string's: per byte at most).
    fn per_item(a: &[Value]) -> usize {
        a.first()
            .map_or(0, items)
            .saturating_add(1)
            .saturating_mul(ITEM_BYTES * 2)
    }
    wrap(env, "list", || Value::from_function(f::list), per_item);
    wrap(env, "sort", || Value::from_function(f::sort), per_item);
    wrap(env, "unique", || Value::from_function(f::unique), per_item);
    wrap(
        env,
        "reverse",
        || Value::from_function(f::reverse),
        per_item,
    );
    wrap(env, "split", || Value::from_function(f::split), per_item);
    wrap(env, "lines", || Value::from_function(f::lines), per_item);
    wrap(env, "select", || Value::from_function(f::select), per_item);
    wrap(env, "reject", || Value::from_function(f::reject), per_item);
    wrap(
        env,
        "selectattr",
        || Value::from_function(f::selectattr),
        per_item,
    );
    wrap(
        env,
        "rejectattr",
        || Value::from_function(f::rejectattr),
        per_item,
    );
    wrap(env, "map", || Value::from_function(f::map), per_item);
    // `batch` and `slice` allocate room for `count` items (`slice`: `count` lists) before
    // they look at the input, and `batch` pads with the filler up to `count`.
    fn counted(a: &[Value]) -> usize {
        // Any number among the arguments (also keyword ones) may be the count.
        fn number(c: &Value) -> usize {
            f64::try_from(c.clone()).map_or(0, |f| if f > 0.0 { f as usize } else { 0 })
        }
        let count = a
            .get(1..)
            .unwrap_or_default()
            .iter()
            .map(|c| match c.kind() {
                ValueKind::Number => number(c),
                ValueKind::Map => c.try_iter().map_or(0, |keys| {
                    keys.filter_map(|k| c.get_item(&k).ok())
                        .map(|v| number(&v))
                        .max()
                        .unwrap_or(0)
                }),
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        per_item(a).saturating_add(count.saturating_mul(ITEM_BYTES * 4))
    }
    wrap(env, "batch", || Value::from_function(f::batch), counted);
    wrap(env, "slice", || Value::from_function(f::slice), counted);
    wrap(env, "items", || Value::from_function(f::items), per_item);
    wrap(
        env,
        "dictsort",
        || Value::from_function(f::dictsort),
        per_item,
    );
    for name in [
        "pprint",
        "tojson",
        "urlencode",
        "groupby",
        "chain",
        "zip",
        "sum",
    ] {
        env.remove_filter(name);
    }
    for name in ["debug", "lipsum", "cycler", "joiner"] {
        env.remove_global(name);
    }
}

// ---- the context's lists

/// Refuses a profile whose lists are longer than the static check counts them
/// ([`MAX_BLF_KEYS`], [`MAX_LINES`]): a loop over them could then run past its bound.
pub(crate) fn check_profile(p: &crate::inputs::Profile) -> Result<()> {
    let over = if p.blf.len() > MAX_BLF_KEYS {
        format!("the phone has more than {MAX_BLF_KEYS} BLF keys")
    } else if p.lines.len() > MAX_LINES {
        format!("the phone has more than {MAX_LINES} accounts")
    } else {
        return Ok(());
    };
    Err(Error::new(
        ErrorKind::TemplateRender,
        format!("{over}; a Jinja template renders at most that many"),
    ))
}

// ---- the output cap

/// The rendered file, refused past [`MAX_OUTPUT_BYTES`].
pub(crate) struct CappedOutput(pub(crate) Vec<u8>);

impl io::Write for CappedOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.0.len().saturating_add(buf.len()) > MAX_OUTPUT_BYTES {
            STOPPED.with(|s| s.set(Some(OVER_OUTPUT)));
            return Err(io::Error::other(OVER_OUTPUT));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::sample;
    use crate::template::{validate_template, Composition, Renderer, Template, TemplateStyle};
    use crate::vendors::Vendor;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn jinja(source: &str) -> Template {
        Template {
            name: "t".into(),
            vendor: Vendor::Yealink,
            style: TemplateStyle::Jinja,
            composition: Composition::Replace,
            source: source.into(),
        }
    }

    /// Saving `src` fails, and the error's text contains `cause`.
    fn refused_at_save(src: &str, cause: &str) -> Error {
        let e = validate_template(&jinja(src)).expect_err(src);
        assert!(e.detail().contains(cause), "{src}: {e}");
        assert!(e.line().is_some(), "{src}: {e}");
        e
    }

    /// A MAC no sample uses: a payload behind it is not run by the save-time render.
    const BEHIND_MAC: &str = "{% if device.mac == '001565ffffff' %}";

    #[test]
    fn string_repetition_is_refused_at_save_also_behind_a_mac_condition() {
        let payload = "{{ 'x' * 100000000 }}";
        refused_at_save(payload, "`*` repeats");
        refused_at_save(
            &format!("{BEHIND_MAC}{payload}{{% endif %}}"),
            "`*` repeats",
        );
        // A variable count, a list, a name holding text: all refused.
        refused_at_save("{% set n = 100000000 %}{{ 'x' * n }}", "`*` repeats");
        refused_at_save("{{ ([1] * 100000000)|join }}", "`*` repeats");
        refused_at_save("{{ user.display_name * 10000 }}", "`*` repeats");
        // Many small repetitions add up.
        let many = "{{ 'x' * 60000 }}".repeat(2);
        refused_at_save(&many, "`*` repeats");
    }

    #[test]
    fn doubling_by_concatenation_is_refused_at_save() {
        let cases = [
            // Through a namespace in a loop.
            "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
            // Through a name built from itself.
            "{% set a = user.display_name %}{% for i in range(64) %}{% set a = a ~ a %}{% endfor %}{{ a }}",
            // `+` on strings is the same.
            "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
            // A recursive macro doubling its argument.
            "{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('x') }}",
            // A filter's result kept and joined again.
            "{% set a = user.display_name|upper %}{{ a ~ a }}",
            // Lists nesting themselves.
            "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
        ];
        for src in cases {
            refused_at_save(src, "cannot join");
            refused_at_save(&format!("{BEHIND_MAC}{src}{{% endif %}}"), "cannot join");
        }
        refused_at_save(
            &format!("{{{{ {} }}}}", vec!["user.display_name"; 65].join(" ~ ")),
            "at most 64",
        );
    }

    #[test]
    fn recursion_captures_and_other_files_are_refused_at_save() {
        refused_at_save(
            "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
            "calls itself",
        );
        refused_at_save(
            "{% macro f() %}{{ g() }}{% endmacro %}{% macro g() %}{{ f() }}{% endmacro %}{{ f() }}",
            "calls itself",
        );
        refused_at_save(
            "{% macro f() %}x{% endmacro %}{{ f() ~ f() }}",
            "can only be printed",
        );
        // Text a macro or block keeps in memory, in a loop.
        refused_at_save(
            "{% macro m() %}{% for k in range(user.extension|int) %}linekey = {{ k }}\n{% endfor %}{% endmacro %}{{ m() }}",
            "hold their text in memory",
        );
        refused_at_save(
            &format!(
                "{{% set x %}}{{% for i in range(100) %}}{}{{% endfor %}}{{% endset %}}",
                "y".repeat(20_000)
            ),
            "hold their text in memory",
        );
        refused_at_save("{% include 't.txt' %}", "`include` is not available");
        refused_at_save("{% extends 't.txt' %}", "`extends` is not available");
        refused_at_save("{{ lines|pprint }}", "filter `pprint`");
        refused_at_save("{{ lines|tojson }}", "filter `tojson`");
        refused_at_save("{{ debug() }}", "only these functions");
        refused_at_save(
            "{% for l in lines recursive %}{{ loop(l) }}{% endfor %}",
            "recursive loops",
        );
    }

    #[test]
    fn growing_filters_stop_at_the_budget_at_save() {
        let cases = [
            "{{ 'x'|indent(100000000) }}",
            "{{ ('x' * 1000)|replace('x', 'yyyyyyyyyy' * 1000) }}",
            "{{ range(100000)|join('y' * 60000) }}",
            "{{ '%100000000s'|format('x') }}",
            "{{ ('x' * 60000)|center(100000000) }}",
            "{% set ns = namespace(n=0) %}{% for i in range(100000) %}{{ ('x' * 60000)|list }}{% endfor %}",
            "{% for i in range(100000) %}{{ 'x' * 60000 }}{% endfor %}",
            // Printed inside a macro: its output is held in memory, and charged.
            "{% macro m() %}{% for i in range(100000) -%}{{ 'x' * 60000 }}{%- endfor %}{% endmacro %}{{ m() }}",
        ];
        for src in cases {
            let e = validate_template(&jinja(src)).expect_err(src);
            assert!(
                e.detail().contains("more than 8 MiB")
                    || e.detail().contains("larger than 4 MiB")
                    || e.detail().contains("filter `center`"),
                "{src}: {e}"
            );
        }
    }

    #[test]
    fn output_is_capped() {
        let big = "y".repeat(200_000);
        let src = format!("{{% for i in range(30) %}}{big}{{% endfor %}}");
        let e = validate_template(&jinja(&src)).unwrap_err();
        assert!(e.detail().contains("larger than 4 MiB"), "{e}");
        // Just below the cap renders.
        let src = format!("{{% for i in range(20) %}}{big}{{% endfor %}}");
        validate_template(&jinja(&src)).unwrap();
    }

    #[test]
    fn a_payload_behind_a_mac_fails_at_render_and_the_renderer_lives_on() {
        let big = "y".repeat(200_000);
        let src = format!(
            "a = {{{{ user.extension }}}}\n{BEHIND_MAC}{{% for i in range(100) %}}{big}{{% endfor %}}{{% endif %}}"
        );
        let mut r = Renderer::new();
        r.set_template(jinja(&src)).unwrap();
        let mut target = sample::reference_profile(Vendor::Yealink);
        target.device.mac = "001565ffffff".parse().unwrap();
        let e = r.render_template("t", &Arc::new(target)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TemplateRender, "{e}");
        assert!(e.detail().contains("larger than 4 MiB"), "{e}");
        // The next phone renders.
        let other = Arc::new(sample::reference_profile(Vendor::Yealink));
        assert_eq!(r.render_template("t", &other).unwrap(), "a = 204\n");
        // The budget behind a MAC, too.
        let src = format!("{BEHIND_MAC}{{% for i in range(100000) %}}{{{{ 'x' * 60000 }}}}{{% endfor %}}{{% endif %}}");
        r.set_template(jinja(&src)).unwrap();
        let mut target = sample::reference_profile(Vendor::Yealink);
        target.device.mac = "001565ffffff".parse().unwrap();
        let e = r.render_template("t", &Arc::new(target)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TemplateRender, "{e}");
        assert!(
            e.detail().contains("4 MiB") || e.detail().contains("8 MiB"),
            "{e}"
        );
    }

    #[test]
    fn a_template_saved_before_the_bounds_is_refused_at_load() {
        let mut r = Renderer::new();
        let e = r
            .load_saved(jinja(&format!(
                "{BEHIND_MAC}{{{{ 'x' * 100000000 }}}}{{% endif %}}"
            )))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TemplateSyntax, "{e}");
        assert!(r.template("t").is_none());
    }

    #[test]
    fn loop_items_are_not_numbers() {
        // `loop.nextitem` is the next item (a string here), not a number: `*` repeats it.
        let payload = "{% for s in ['x','y'] %}{% if loop.first %}{% set a = loop.nextitem * 100000000 %}{% set b = a + a %}{% set c = b + b %}{% set d = c + c %}{{ d|length }}{% endif %}{% endfor %}";
        refused_at_save(payload, "`*` repeats");
        refused_at_save(
            &format!("{BEHIND_MAC}{payload}{{% endif %}}"),
            "`*` repeats",
        );
        let prev = "{% for s in ['x','y'] %}{% if loop.last %}{% set a = loop.previtem * 100000000 %}{{ a|length }}{% endif %}{% endfor %}";
        refused_at_save(prev, "`*` repeats");
        // `+` adds only two numbers: a number on one side does not make the other one.
        refused_at_save(
            "{% for s in ['x','y'] %}{% set a = loop.nextitem + 0 %}{% set b = a * 100000000 %}{% endfor %}",
            "`*` repeats",
        );
        // A namespace's initial value is an assignment too.
        refused_at_save(
            "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
            "cannot join",
        );
        refused_at_save(
            "{% macro m(p) %}{% set p.s = p.s + p.s %}{% endmacro %}{{ m(namespace(s='x')) }}",
            "cannot join",
        );
    }

    #[test]
    fn batch_and_slice_count_their_count() {
        for src in [
            "{{ [1]|batch(20000000, 'x')|length }}",
            "{{ []|slice(20000000)|length }}",
            "{{ [1]|batch(1000000000)|length }}",
            "{{ []|slice(1000000000, 'x')|length }}",
        ] {
            let e = validate_template(&jinja(src)).expect_err(src);
            assert!(e.detail().contains("more than 8 MiB"), "{src}: {e}");
        }
        // Ordinary counts render.
        validate_template(&jinja(
            "{% for row in blf|batch(3, '') %}{{ row|length }}{% endfor %}{% for c in lines|slice(2) %}{{ c|length }}{% endfor %}",
        ))
        .unwrap();
    }

    /// Runs `f` on a thread with a 512 KiB stack (a Worker has 1 MiB or less); on wasm,
    /// where there are no threads, on the test's own stack.
    fn on_small_stack(f: impl FnOnce() + Send + 'static) {
        #[cfg(not(target_arch = "wasm32"))]
        std::thread::Builder::new()
            .stack_size(512 << 10)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
        #[cfg(target_arch = "wasm32")]
        f();
    }

    /// Templates of every shape that nests: `n` repetitions of the growing part.
    fn deep(shape: &str, n: usize) -> String {
        let r = |s: &str| s.repeat(n);
        match shape {
            "+" => format!("{{% set a = 'a'{} %}}", r("+'a'")),
            "~" => format!("{{% set a = 'a'{} %}}", r(" ~ 'a'")),
            "*" => format!("{{{{ 1{} }}}}", r("*1")),
            "parens" => format!("{{{{ {}1{} }}}}", r("("), r(")")),
            "parens+" => format!("{{{{ {}1{} }}}}", r("(1+"), r(")")),
            "list" => format!("{{{{ {}1{}|length }}}}", r("["), r("]")),
            "dict" => format!("{{{{ {}1{}|length }}}}", r("{'k': "), r("}")),
            "call" => format!("{{{{ {}1{} }}}}", r("range("), r(")")),
            "postfix" => format!("{{{{ blf{} }}}}", r("[0]")),
            "attr" => format!("{{{{ user{} }}}}", r(".a")),
            "not" => format!("{{{{ {}1 }}}}", r("not ")),
            "neg" => format!("{{{{ {}1 }}}}", r("- ")),
            "filter" => format!("{{{{ 'a'{} }}}}", r("|trim")),
            "filter-args" => format!("{{{{ 'a'{} }}}}", r("|replace('a', 'b')")),
            "test" => format!("{{{{ 1{} }}}}", r(" is number")),
            "ifexpr" => format!("{{{{ {}1 }}}}", r("1 if user else ")),
            "and" => format!("{{{{ 1{} }}}}", r(" and 1")),
            "compare" => format!("{{{{ 1{} }}}}", r(" < 1")),
            "if" => format!("{}x{}", r("{% if user %}"), r("{% endif %}")),
            "elif" => format!("{{% if false %}}{}{{% endif %}}", r("{% elif false %}")),
            "for" => format!("{}x{}", r("{% for i in [1] %}"), r("{% endfor %}")),
            "with" => format!("{}x{}", r("{% with a = 1 %}"), r("{% endwith %}")),
            "set-block" => format!("{}x{}", r("{% set a %}"), r("{% endset %}")),
            "filter-block" => format!("{}x{}", r("{% filter upper %}"), r("{% endfilter %}")),
            "macro" => format!("{}x{}", r("{% macro m() %}"), r("{% endmacro %}")),
            "if+parens" => format!(
                "{}{{{{ {}1{} }}}}{}",
                r("{% if user %}"),
                r("(1+"),
                r(")"),
                r("{% endif %}")
            ),
            _ => unreachable!("{shape}"),
        }
    }

    const SHAPES: [&str; 26] = [
        "+",
        "~",
        "*",
        "parens",
        "parens+",
        "list",
        "dict",
        "call",
        "postfix",
        "attr",
        "not",
        "neg",
        "filter",
        "filter-args",
        "test",
        "ifexpr",
        "and",
        "compare",
        "if",
        "elif",
        "for",
        "with",
        "set-block",
        "filter-block",
        "macro",
        "if+parens",
    ];

    #[test]
    fn long_and_deep_expressions_are_refused_before_parsing() {
        on_small_stack(|| {
            // The reported payloads: seconds to check at 4,000 terms, a stack overflow at
            // 15,000. The error names the line the limit is passed on.
            for n in [1000, 4000, 15_000] {
                let src = format!("first\nsecond\n{}", deep("+", n));
                let e = refused_at_save(&src, "nests too deeply");
                assert_eq!(e.line(), Some(3), "{e}");
            }
            for shape in SHAPES {
                let n = if shape.contains("block") || shape == "macro" {
                    5000
                } else {
                    15_000
                };
                let mut src = deep(shape, n);
                src.truncate(crate::template::MAX_TEMPLATE_BYTES);
                refused_at_save(&src, "nests too deeply");
                // Also a template stored before the limit, loaded back.
                let e = Renderer::new().load_saved(jinja(&src)).unwrap_err();
                assert!(e.detail().contains("nests too deeply"), "{shape}: {e}");
            }
            // An ordinary long expression passes.
            validate_template(&jinja(&deep("~", 100))).unwrap();
            validate_template(&jinja(&deep("if+parens", 8))).unwrap();
        });
    }

    #[test]
    fn every_shape_at_every_depth_is_checked_without_crashing() {
        // Below, at and past the limit, alone and inside blocks: the check, the compiler
        // and the sample render must all return (here on a small stack).
        on_small_stack(|| {
            let mut passed = 0;
            for shape in SHAPES {
                for n in [
                    1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 100, 127, 128, 200, 255, 256, 300,
                ] {
                    for inside in [0, 8, 24] {
                        let src = format!(
                            "{}{}{}",
                            "{% if user %}".repeat(inside),
                            deep(shape, n),
                            "{% endif %}".repeat(inside)
                        );
                        let saved = validate_template(&jinja(&src));
                        let loaded = Renderer::new().load_saved(jinja(&src));
                        passed += usize::from(saved.is_ok());
                        if let Err(e) = saved.and(loaded) {
                            assert!(e.line().is_some(), "{shape} {n}: {e}");
                        }
                    }
                }
            }
            // The shapes are templates that save when small.
            assert!(passed > SHAPES.len() * 3, "{passed}");
        });
    }

    #[test]
    fn values_built_from_themselves_are_refused() {
        // Each nests once more per iteration: printed, compared or freed, a value 100,000
        // deep overflowed the stack (the relay or a Worker crashed), 1,000 a 512 KiB one.
        let looped = |init: &str, body: &str, end: &str| {
            format!(
                "{{% set ns = namespace(x={init}) %}}{{% for i in range(100000) %}}{body}{{% endfor %}}{end}"
            )
        };
        let mut payloads = Vec::new();
        for rhs in [
            "[ns.x]",
            "{'a': ns.x}",
            "[ns.x, 1]",
            "[1, [ns.x]]",
            "{ns.x: 1}",
            "(ns.x, 1)",
            "dict(a=ns.x)",
            "[ns.x]|list",
            "ns.x|batch(1)",
            "ns.x|slice(1)",
            "ns.x|items",
            "ns.x|dictsort",
            "ns.x|map('batch', 1)",
            "[ns.x] if i else ns.x",
            "ns.x and [ns.x]",
            "([ns.x] + [])|reverse",
            "namespace(v=ns.x)",
            "ns",
        ] {
            payloads.push(looped(
                "[]",
                &format!("{{% set ns.x = {rhs} %}}"),
                "{{ ns.x }}",
            ));
        }
        payloads.extend([
            // Through other names, macros and blocks.
            looped("[]", "{% set y = [ns.x] %}{% set ns.y = y %}{% set ns.x = ns.y %}", "x"),
            looped("[]", "{% with y = {'k': ns.x} %}{% set ns.x = y %}{% endwith %}", "x"),
            looped("[]", "{% for y in [[ns.x]] %}{% set ns.x = y %}{% endfor %}", "x"),
            looped("[]", "{% for a, b in [[ns.x, [ns.x]]] %}{% set ns.x = b %}{% endfor %}", "x"),
            looped("[]", "{% for y in [ns.x] %}{% for j in [1, 2] %}{% set ns.x = [loop.previtem, y] %}{% endfor %}{% endfor %}", "x"),
            format!("{{% macro m(p) %}}{{% set ns.x = [p] %}}{{% endmacro %}}{}", looped("[]", "{{ m(ns.x) }}", "{{ ns.x == ns.x }}")),
            format!("{{% macro m(a, p=1) %}}{{% set ns.x = [p] %}}{{% endmacro %}}{}", looped("[]", "{{ m(1, p=ns.x) }}", "x")),
            format!("{{% macro m(p) %}}{{% set p.x = [p.x] %}}{{% endmacro %}}{}", looped("[]", "{{ m(ns) }}", "x")),
            format!("{{% macro m() %}}{{% set ns.x = varargs %}}{{% endmacro %}}{}", looped("[]", "{{ m(ns.x) }}", "x")),
            format!("{{% macro m() %}}{{% set ns.x = kwargs %}}{{% endmacro %}}{}", looped("[]", "{{ m(a=ns.x) }}", "x")),
            format!("{{% macro m() %}}{{{{ caller(ns.x) }}}}{{% endmacro %}}{}", looped("[]", "{% call(p) m() %}{% set ns.x = {'k': p} %}{% endcall %}", "x")),
            // A namespace holding itself, printed: no loop needed.
            "{% set ns = namespace(x=1) %}{% set ns.x = [ns] %}{{ ns }}".into(),
            // A long chain of names, each a list of the one before.
            (0..40)
                .map(|i| format!("{{% set a{} = [a{i}] %}}", i + 1))
                .collect::<String>(),
        ]);
        on_small_stack(move || {
            for src in &payloads {
                refused_at_save(src, "nest more than 32 levels");
                refused_at_save(
                    &format!("{BEHIND_MAC}{src}{{% endif %}}"),
                    "nest more than 32 levels",
                );
                let e = Renderer::new().load_saved(jinja(src)).unwrap_err();
                assert!(e.detail().contains("nest more than"), "{src}: {e}");
            }
        });
    }

    #[test]
    fn ordinary_nesting_passes() {
        on_small_stack(|| {
            for src in [
                "{% for row in blf|batch(3, '')|list %}{% for k in row %}{{ k.extension if k else '' }}{% endfor %}{% endfor %}",
                "{% set d = {'a': [1, 2], 'b': {'c': [user.extension]}} %}{{ d.b.c[0] }}{% for k, v in d|dictsort %}{{ k }}{% endfor %}",
                "{% set ns = namespace(n=0, rows=[]) %}{% for k in blf %}{% set ns.n = ns.n + 1 %}{% set ns.rows = blf|selectattr('line', 'equalto', k.line)|list %}{% endfor %}{{ ns.n }}{{ ns.rows|length }}",
                "{% set ns = namespace(x=[]) %}{% for k in blf %}{% set ns.x = ns.x|reverse|list %}{% endfor %}{{ ns.x|length }}",
                "{% macro m(p, q=[1]) %}{{ p|length }}{{ q|length }}{% endmacro %}{{ m([lines], [[1]]) }}{{ m(dict(a=[blf])) }}",
                "{% for i in range(3) %}{% if not loop.first %}{{ [loop.previtem]|length }}{% endif %}{% endfor %}",
                &(0..20)
                    .map(|i| format!("{{% set a{} = [a{i}] %}}", i + 1))
                    .collect::<String>(),
            ] {
                validate_template(&jinja(src)).unwrap_or_else(|e| panic!("{src}: {e}"));
            }
            // A long chain of names copied from each other, against any order the analysis
            // could take them in: bounded, not refused.
            let mut chain = String::new();
            let mut i = 0;
            while chain.len() < crate::template::MAX_TEMPLATE_BYTES - 100 {
                chain.push_str(&format!(
                    "{{% set b{i} = a{} %}}{{% set a{i} = b{i} %}}",
                    i + 1
                ));
                i += 1;
            }
            check(&chain).unwrap();
        });
    }

    #[test]
    fn macro_call_chains_are_bounded() {
        // Each level of calls recurses in the render: 40 chained macros overflowed a 512 KiB
        // stack at save.
        let chain = |n: usize| {
            let mut s: String = (0..n)
                .map(|i| {
                    format!(
                        "{{% macro m{i}() %}}{{{{ m{}() }}}}{{% endmacro %}}\n",
                        i + 1
                    )
                })
                .collect();
            s.push_str(&format!(
                "{{% macro m{n}() %}}x{{% endmacro %}}{{{{ m0() }}}}"
            ));
            s
        };
        on_small_stack(move || {
            validate_template(&jinja(&chain(MAX_MACRO_DEPTH))).unwrap();
            for n in [MAX_MACRO_DEPTH + 1, 40, 5000] {
                refused_at_save(&chain(n), "call each other more than 8 deep");
            }
            // Wide and shallow: every macro of a layer calls every macro of the next one.
            let (layers, width) = (MAX_MACRO_DEPTH, 45);
            let mut src = String::new();
            for l in 0..=layers {
                for i in 0..width {
                    src.push_str(&format!("{{% macro m{l}_{i}() %}}"));
                    if l < layers {
                        for j in 0..width {
                            src.push_str(&format!("{{{{ m{}_{j}() }}}}", l + 1));
                        }
                    }
                    src.push_str("{% endmacro %}");
                }
            }
            // Within the size limit, which loading checks too.
            assert!(
                src.len() <= crate::template::MAX_TEMPLATE_BYTES,
                "{}",
                src.len()
            );
            let loaded = Renderer::new().load_saved(jinja(&src));
            assert!(loaded.is_ok(), "{loaded:?}");
        });
    }

    #[test]
    fn loops_over_each_others_targets_are_checked() {
        // Loops over each other's targets made the check recurse forever (a stack
        // overflow), and a chain of loops over two targets each took exponential time.
        let cycle = "{% if false %}{% for a in b %}{% endfor %}{% for b in a %}{% endfor %}{{ a.port + 1 }}{% endif %}";
        on_small_stack(move || validate_template(&jinja(cycle)).unwrap());
        let mut chain = String::from("{% if false %}");
        for i in 0..40 {
            let j = i + 1;
            chain.push_str(&format!(
                "{{% for a{i} in a{j} %}}{{% endfor %}}{{% for a{i} in a{j}.x %}}{{% endfor %}}"
            ));
        }
        chain.push_str("{% for a40 in blf %}{% endfor %}{{ a0.port + 1 }}{% endif %}");
        validate_template(&jinja(&chain)).unwrap();
    }

    #[test]
    fn names_bound_to_text_count_their_text_in_every_join() {
        // A name bound to a long literal, joined many times over in names kept alive.
        let big = "y".repeat(100_000);
        let joins: String = (0..300)
            .map(|i| format!("{{% set z{i} = p ~ p ~ p ~ p ~ p ~ p ~ p ~ p %}}"))
            .collect();
        refused_at_save(&format!("{{% set p = '{big}' %}}{joins}"), "joins");
        // A chain of names built from each other still joins at most 64 values.
        let mut src = "{% set a0 = user.display_name ~ user.display_name %}".to_owned();
        for i in 1..8 {
            src.push_str(&format!("{{% set a{i} = a{} ~ a{} %}}", i - 1, i - 1));
        }
        refused_at_save(&src, "at most 64");
    }

    #[test]
    fn the_contexts_lists_are_refused_past_their_caps_at_render() {
        let mut r = Renderer::new();
        r.set_template(jinja(
            "{% macro keys() %}{% for k in blf %}linekey.{{k.index}}.type = 16\n{% endfor %}{% endmacro %}{{ keys() }}",
        ))
        .unwrap();
        let key = crate::inputs::BlfKey {
            extension: "201".into(),
            label: String::new(),
            line: 1,
            pickup_prefix: String::new(),
        };
        let mut p = sample::reference_profile(Vendor::Yealink);
        p.blf = vec![key.clone(); MAX_BLF_KEYS + 1];
        let e = r.render_template("t", &Arc::new(p)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TemplateRender, "{e}");
        assert!(e.detail().contains("BLF keys"), "{e}");
        let mut p = sample::reference_profile(Vendor::Yealink);
        p.blf = vec![key; MAX_BLF_KEYS];
        let out = r.render_template("t", &Arc::new(p)).unwrap();
        assert_eq!(out.matches("type = 16").count(), MAX_BLF_KEYS);
        let mut p = sample::reference_profile(Vendor::Yealink);
        let line = p.lines[0].clone();
        p.lines = vec![line; MAX_LINES + 1];
        let e = r.render_template("t", &Arc::new(p)).unwrap_err();
        assert!(e.detail().contains("accounts"), "{e}");
        // Every model's accounts fit.
        for v in Vendor::ALL {
            for m in v.models() {
                assert!(usize::from(m.accounts) <= MAX_LINES, "{v} {}", m.name);
            }
        }
    }

    #[test]
    fn namespace_accumulation_suggests_join() {
        refused_at_save(
            "{% set ns = namespace(keys='') %}{% for k in blf %}{% set ns.keys = ns.keys ~ k.extension ~ ',' %}{% endfor %}{{ ns.keys }}",
            "the `join` filter",
        );
    }

    #[test]
    fn ordinary_templates_pass() {
        let ok = [
            "{% for l in lines %}account.{{ l.index }}.label = {{ 'L' ~ l.index ~ ' ' ~ l.label }}\n{% endfor %}",
            "{% for k in blf %}{% set n = k.index + lines|length %}{% set base = 20200 + 5 * (n - 5) if n > 4 else 41200 + n - 1 %}{% set step = 1 if n > 4 else 100 %}P{{ base + 2 * step }} = {{ k.label }}\n{% endfor %}",
            "{% for k in blf %}P{{ 298 + 3 * k.index }} = {{ k.extension }}\n{% endfor %}",
            "# {{ '-' * 20 }}\n{% set name = user.display_name ~ ' (' ~ user.extension ~ ')' %}a = {{ name }}\n",
            "{% set ns = namespace(n=0) %}{% for k in blf %}{% set ns.n = ns.n + 1 %}{% endfor %}n = {{ ns.n }}\n",
            "{% macro key(k) %}linekey.{{ k.index }}.value = {{ k.extension }}{% endmacro %}{% for k in blf %}{{ key(k) }}\n{% endfor %}",
            "a = {{ user.display_name|upper|replace(' ', '_') }}\nb = {{ blf|map(attribute='extension')|join(',') }}\nc = {{ '%s-%s'|format(user.extension, pbx.host) }}\n",
            // A macro looping over the BLF keys with a line of text.
            "{% macro keys() %}{% for k in blf %}linekey.{{k.index}}.type = 16\n{% endfor %}{% endmacro %}{{ keys() }}",
            "{% macro accts() %}{% for l in lines %}account.{{ l.index }}.enable = 1\n{% endfor %}{% endmacro %}{{ accts() }}",
            // A string built earlier, reused.
            "{% for l in lines %}{% set prefix = 'account.' ~ l.index ~ '.' %}{{ prefix ~ 'label' }} = {{ l.label }}\n{% endfor %}",
            "{% set name = user.display_name ~ ' <' ~ user.extension ~ '>' %}a = {{ name ~ ';' }}\n",
            // A repeat count held in a name.
            "{% set w = 20 %}# {{ '-' * w }}\n",
            "{% set n = 3 %}{% for i in range(n) %}x{% endfor %}\n",
            // Counting in a namespace.
            "{% set ns = namespace(n=0) %}{% for k in blf %}{% set ns.n = ns.n + 1 %}{% endfor %}n = {{ ns.n }}\n",
            "{% for k in blf %}{% if not loop.first and loop.previtem.line != k.line %}\n{% endif %}{{ k.extension }}{% endfor %}\n",
        ];
        for src in ok {
            validate_template(&jinja(src)).unwrap_or_else(|e| panic!("{src}: {e}"));
        }
    }
}
