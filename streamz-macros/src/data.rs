//! `#[derive(Data)]`: attribute parsing and code generation.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{parse_quote, Attribute, Data, DeriveInput, Fields, LitStr, Member};

/// The codecs `#[streamz(codec = "..")]` accepts.
enum Codec {
    Json,
    Bincode,
}

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let codec = type_codec(&input.attrs)?;
    let event_time = match &input.data {
        Data::Struct(data) => timestamp_field(&data.fields)?.map(event_time),
        Data::Enum(data) => {
            for variant in &data.variants {
                reject_attrs(&variant.attrs, "on an enum variant")?;
                for field in &variant.fields {
                    reject_attrs(&field.attrs, "on a field of an enum")?;
                }
            }
            None
        }
        Data::Union(data) => {
            let message = "`Data` cannot be derived for unions; use a struct or an enum";
            return Err(syn::Error::new(data.union_token.span, message));
        }
    };

    let serde = match codec {
        Codec::Json => quote!(::streamz::serdes::JsonSerde),
        Codec::Bincode => quote!(::streamz::serdes::BincodeSerde),
    };
    let mut generics = input.generics.clone();
    if !generics.params.is_empty() {
        let where_clause = generics.make_where_clause();
        where_clause.predicates.push(parse_quote!(
            Self: ::core::clone::Clone
                + ::core::fmt::Debug
                + ::core::marker::Send
                + ::core::marker::Sync
                + 'static
        ));
        where_clause.predicates.push(parse_quote!(#serde<Self>: ::streamz::serdes::Serde<Self>));
    }
    let (impl_generics, type_generics, where_clause) = generics.split_for_impl();
    let name = &input.ident;
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics ::streamz::serdes::Data for #name #type_generics #where_clause {
            fn default_serde() -> ::streamz::serdes::SerdeRef<Self> {
                ::std::sync::Arc::new(#serde::<Self>::new())
            }
            #event_time
        }
    })
}

/// The codec named on the type; JSON when none is.
fn type_codec(attrs: &[Attribute]) -> syn::Result<Codec> {
    let mut codec = None;
    for attr in streamz_attrs(attrs) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("codec") {
                let value: LitStr = meta.value()?.parse()?;
                let parsed = match value.value().as_str() {
                    "json" => Codec::Json,
                    "bincode" => Codec::Bincode,
                    other => {
                        let message = format!("unknown codec `{other}`: expected \"json\" or \"bincode\"");
                        return Err(syn::Error::new(value.span(), message));
                    }
                };
                if codec.replace(parsed).is_some() {
                    return Err(meta.error("the codec is given twice"));
                }
                Ok(())
            } else if meta.path.is_ident("timestamp") {
                Err(meta.error("`timestamp` goes on the field that holds the event time"))
            } else {
                Err(meta.error(
                    "unknown streamz attribute: expected `codec = \"json\"` or \
                     `codec = \"bincode\"` on the type, or `timestamp` on a field",
                ))
            }
        })?;
    }
    Ok(codec.unwrap_or(Codec::Json))
}

/// The field marked `#[streamz(timestamp)]`, if any, with its member (`self.<member>`).
fn timestamp_field(fields: &Fields) -> syn::Result<Option<(Member, &syn::Type)>> {
    let mut found = None;
    for (index, field) in fields.iter().enumerate() {
        for attr in streamz_attrs(&field.attrs) {
            attr.parse_nested_meta(|meta| {
                if !meta.path.is_ident("timestamp") {
                    return Err(meta.error(
                        "unknown streamz field attribute: expected `timestamp` \
                         (`codec` goes on the type)",
                    ));
                }
                if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                    return Err(meta.error("`timestamp` takes no value"));
                }
                if found.is_some() {
                    return Err(meta.error("only one field can be the timestamp"));
                }
                let member = match &field.ident {
                    Some(ident) => Member::Named(ident.clone()),
                    None => Member::Unnamed(index.into()),
                };
                found = Some((member, &field.ty));
                Ok(())
            })?;
        }
    }
    Ok(found)
}

/// `event_time()` returning the field; a field of another type fails to compile at its type.
fn event_time((member, ty): (Member, &syn::Type)) -> TokenStream {
    let timestamp = quote_spanned!(ty.span()=>
        ::streamz::serdes::EventTimeField::event_time(&self.#member)
    );
    quote! {
        fn event_time(&self) -> ::core::option::Option<::streamz::Timestamp> {
            ::core::option::Option::Some(#timestamp)
        }
    }
}

fn reject_attrs(attrs: &[Attribute], place: &str) -> syn::Result<()> {
    match streamz_attrs(attrs).next() {
        Some(attr) => Err(syn::Error::new_spanned(attr, format!("streamz attributes are not supported {place}"))),
        None => Ok(()),
    }
}

fn streamz_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|attr| attr.path().is_ident("streamz"))
}
