//! The procedural half of jamless's native logging macros
//! (`jamless::info!` and its siblings). Use those; this crate's one macro
//! is an implementation detail whose input may change in any release.
//!
//! For one call it expands, inside the caller's function:
//!
//! * a `static` call-site descriptor (level, target, module, file, line,
//!   the format string) holding a generated *render function*: the
//!   `format!` string split at compile time into its literal text and
//!   holes, each hole's spec kept verbatim, so the writer thread renders
//!   exactly what `format!` would;
//! * the caller's side: each hole's argument encoded raw when its type opts
//!   in (`jamless::NativeArg`: integers, floats, `bool`, `char`, strings)
//!   or formatted at once with its spec otherwise (chosen per argument at
//!   compile time by autoref specialisation);
//! * a `format_args!` of the original string and arguments that never runs,
//!   so that the compiler checks the call exactly as it checks `format!`.
#![deny(missing_docs)]

mod format;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::{bracketed, Expr, Ident, LitStr, Token};

use format::{ArgRef, Count, Piece};

/// One macro argument after the format string.
enum MacroArg {
    Positional(Expr),
    Named(Ident, Expr),
}

struct Input {
    krate: TokenStream,
    level: Ident,
    logger: TokenStream,
    target: TokenStream,
    kvs: TokenStream,
    format: LitStr,
    args: Vec<MacroArg>,
}

fn key(input: ParseStream<'_>, name: &str) -> syn::Result<()> {
    let k: Ident = if input.peek(Token![crate]) {
        input.parse::<Token![crate]>()?;
        Ident::new("crate", Span::call_site())
    } else {
        input.parse()?
    };
    if k != name {
        return Err(syn::Error::new(k.span(), format!("expected `{name} =`")));
    }
    input.parse::<Token![=]>()?;
    Ok(())
}

fn bracket(input: ParseStream<'_>) -> syn::Result<TokenStream> {
    let content;
    bracketed!(content in input);
    let t: TokenStream = content.parse()?;
    input.parse::<Token![,]>()?;
    Ok(t)
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Input> {
        key(input, "crate")?;
        // `$crate` or a path, up to the comma.
        let mut krate = TokenStream::new();
        while !input.peek(Token![,]) {
            let tt: TokenTree = input.parse()?;
            krate.extend([tt]);
        }
        input.parse::<Token![,]>()?;
        key(input, "level")?;
        let level: Ident = input.parse()?;
        input.parse::<Token![,]>()?;
        key(input, "logger")?;
        let logger = bracket(input)?;
        key(input, "target")?;
        let target = bracket(input)?;
        key(input, "kvs")?;
        let kvs = bracket(input)?;
        let format: LitStr = input.parse()?;
        let mut args = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
                let name: Ident = input.parse()?;
                input.parse::<Token![=]>()?;
                args.push(MacroArg::Named(name, input.parse()?));
            } else {
                args.push(MacroArg::Positional(input.parse()?));
            }
        }
        Ok(Input {
            krate,
            level,
            logger,
            target,
            kvs,
            format,
            args,
        })
    }
}

/// A slot of the record: a value, or a `usize` width or precision.
enum Slot {
    Count(usize),
    Value {
        arg: usize,
        spec: format::Spec,
        width: Option<usize>,
        precision: Option<usize>,
    },
}

/// The arguments the expansion binds: positional, named, then the names
/// the format string captures from the caller's scope.
struct Bound {
    exprs: Vec<TokenStream>,
    positional: usize,
    /// Explicit named arguments, then captures.
    names: Vec<String>,
    /// Used as a width or precision (so passed as `usize`, not `&usize`).
    count: Vec<bool>,
}

/// Expands one native log call. Input (from jamless's `macro_rules!`
/// front-ends): `crate = $crate, level = Info, logger = [expr?],
/// target = [expr?], kvs = [expr?], "format", args...`.
#[proc_macro]
#[doc(hidden)]
pub fn __native(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = syn::parse_macro_input!(input as Input);
    match expand(input) {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand(input: Input) -> syn::Result<TokenStream> {
    let Input {
        krate,
        level,
        logger,
        target,
        kvs,
        format,
        args,
    } = input;
    let lit_span = format.span();
    let fmt = format.value();

    let mut positional = Vec::new();
    let mut named = Vec::new();
    for a in &args {
        match a {
            MacroArg::Positional(e) => {
                if !named.is_empty() {
                    return Err(syn::Error::new_spanned(
                        e,
                        "positional arguments cannot follow named arguments",
                    ));
                }
                positional.push(e);
            }
            MacroArg::Named(n, e) => named.push((n, e)),
        }
    }
    let mut bound = Bound {
        exprs: positional.iter().map(|e| quote!(#e)).collect(),
        positional: positional.len(),
        names: named.iter().map(|(n, _)| n.to_string()).collect(),
        count: vec![false; positional.len() + named.len()],
    };
    bound.exprs.extend(named.iter().map(|(_, e)| quote!(#e)));
    let explicit = bound.exprs.len();

    let pieces = format::parse(&fmt)
        .map_err(|e| syn::Error::new(lit_span, format!("jamless: invalid format string: {e}")))?;

    // Resolve every hole and count to a bound argument, and lay out slots.
    let resolve = |bound: &mut Bound, r: &ArgRef| -> syn::Result<usize> {
        match r {
            ArgRef::Index(i) if *i < explicit => Ok(*i),
            ArgRef::Index(i) => Err(syn::Error::new(
                lit_span,
                format!("jamless: no argument at position {i}"),
            )),
            ArgRef::Name(n) => {
                if let Some(k) = bound.names.iter().position(|m| m == n) {
                    return Ok(bound.positional + k);
                }
                let ident = Ident::new(n, lit_span);
                bound.names.push(n.clone());
                bound.exprs.push(quote!(#ident));
                bound.count.push(false);
                Ok(bound.exprs.len() - 1)
            }
        }
    };
    let mut slots = Vec::new();
    // The render function writes piece by piece, reading each hole's slots
    // as it comes to the hole (slots are laid out in the order of the
    // holes): a literal with one `push_str`, a plain `{}` hole with
    // `Decoder::display` (the slot decoded and written in one step,
    // integers without `core::fmt`), any other hole with `write!` and its
    // spec. Each step stops at the first error, as one `write!` of the
    // whole string does.
    let mut render = Vec::new();
    let s = |i: usize| format_ident!("__jl_s{}", i, span = Span::mixed_site());
    for piece in &pieces {
        match piece {
            Piece::Literal(text) => render.push(quote!(__jl_w.push_str(#text);)),
            Piece::Hole(hole) => {
                let mut count_slot = |c: &Option<Count>, bound: &mut Bound| -> syn::Result<_> {
                    match c {
                        Some(Count::Arg(r)) => {
                            let a = resolve(bound, r)?;
                            bound.count[a] = true;
                            slots.push(Slot::Count(a));
                            Ok(Some((slots.len() - 1, a)))
                        }
                        _ => Ok(None),
                    }
                };
                let width = count_slot(&hole.spec.width, &mut bound)?;
                let precision = count_slot(&hole.spec.precision, &mut bound)?;
                let arg = resolve(&mut bound, &hole.arg)?;
                slots.push(Slot::Value {
                    arg,
                    spec: hole.spec.clone(),
                    width: width.map(|w| w.1),
                    precision: precision.map(|p| p.1),
                });
                let value = s(slots.len() - 1);
                if format::is_plain_display(&hole.spec) {
                    render.push(quote!(__jl_d.display(__jl_w)?;));
                } else {
                    // The hole's slots are the last ones pushed, in order.
                    for c in [width, precision].into_iter().flatten() {
                        let count = s(c.0);
                        render.push(quote!(let #count = __jl_d.count();));
                    }
                    render.push(quote!(let #value = __jl_d.value();));
                    let mut hole_fmt = String::new();
                    let mut counts = Vec::new();
                    let mut at = |c: Option<(usize, usize)>| {
                        c.map(|(slot, _)| {
                            counts.push(s(slot));
                            counts.len()
                        })
                    };
                    let (w, p) = (at(width), at(precision));
                    format::push_hole(&mut hole_fmt, 0, &hole.spec, w, p);
                    render.push(quote!(::core::write!(__jl_w, #hole_fmt, #value #(, #counts)*)?;));
                }
            }
        }
    }

    let a = |i: usize| format_ident!("__jl_a{}", i, span = Span::mixed_site());
    let bound_idents: Vec<Ident> = (0..bound.exprs.len()).map(a).collect();
    let bound_exprs = &bound.exprs;
    // A count argument is passed by value (`usize`), everything else by
    // reference, as `format_args!` takes them.
    let pass = |i: usize| {
        let id = a(i);
        if bound.count[i] {
            quote!(*#id)
        } else {
            quote!(#id)
        }
    };
    let check_pos: Vec<TokenStream> = (0..positional.len()).map(pass).collect();
    let check_named: Vec<TokenStream> = named
        .iter()
        .enumerate()
        .map(|(k, (n, _))| {
            let v = pass(positional.len() + k);
            quote!(#n = #v)
        })
        .collect();

    let mut encode = Vec::new();
    for slot in &slots {
        match slot {
            Slot::Count(arg) => {
                let v = a(*arg);
                encode.push(quote!(__jl_e.count(*#v);));
            }
            Slot::Value {
                arg,
                spec,
                width,
                precision,
            } => {
                let v = a(*arg);
                let mut eager_fmt = String::new();
                let mut counts = Vec::new();
                let mut next = 1;
                let mut at = |c: &Option<usize>, counts: &mut Vec<TokenStream>| {
                    c.map(|arg| {
                        let id = a(arg);
                        counts.push(quote!(*#id));
                        next += 1;
                        next - 1
                    })
                };
                let w = at(width, &mut counts);
                let p = at(precision, &mut counts);
                format::push_hole(&mut eager_fmt, 0, spec, w, p);
                encode.push(quote! {
                    (&#krate::__private::Wrap(#v)).__jamless_encode(__jl_e, |__jl_w| {
                        ::core::write!(__jl_w, #eager_fmt, #v #(, #counts)*)
                    });
                });
            }
        }
    }

    let target = if target.is_empty() {
        quote!(::core::module_path!())
    } else {
        target
    };
    let enabled = if logger.is_empty() {
        quote!(#krate::__private::global_enabled(#krate::Level::#level))
    } else {
        quote!(#krate::__private::explicit_enabled(#krate::Level::#level, #logger))
    };
    let kvs = if kvs.is_empty() { quote!(&[]) } else { kvs };
    let fmt_lit = &format;

    let site = quote_spanned!(Span::mixed_site()=> __JL_SITE);
    Ok(quote! {{
        if let ::core::option::Option::Some(__jl_logger) = #enabled {
            fn __jl_render(
                __jl_d: &mut #krate::__private::Decoder<'_>,
                __jl_w: &mut ::std::string::String,
            ) -> ::core::fmt::Result {
                #[allow(unused_imports)]
                use ::core::fmt::Write as _;
                let _ = &__jl_d;
                #(#render)*
                ::core::result::Result::Ok(())
            }
            static #site: #krate::__private::CallSite = #krate::__private::CallSite::new(
                #krate::Level::#level,
                #target,
                ::core::module_path!(),
                ::core::file!(),
                ::core::line!(),
                #fmt_lit,
                __jl_render,
            );
            #[allow(clippy::match_single_binding)]
            match (#(&(#bound_exprs),)*) {
                (#(#bound_idents,)*) => {
                    if false {
                        // Never runs: the compiler checks the call as it
                        // checks `format!`.
                        let _ = ::core::format_args!(#fmt_lit #(, #check_pos)* #(, #check_named)*);
                    }
                    #krate::__private::submit(__jl_logger, &#site, #kvs, |__jl_e| {
                        #[allow(unused_imports)]
                        use #krate::__private::{ViaFormat as _, ViaNative as _};
                        let _ = &__jl_e;
                        #(#encode)*
                    });
                }
            }
        }
    }})
}
