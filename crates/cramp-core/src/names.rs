//! Wire names for the core's enums.
//!
//! The contract (`intake.md`, `outputs.md`) fixes every enum value's name, and every door (proto,
//! JSON, FHIR, CSV) spells values the same way. Keeping the name beside the variant lets adapters
//! translate by name and lets a single test prove that the proto and the core agree.

/// Declares a closed enum whose variants carry their contract names.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $( $(#[$vmeta])* #[doc = concat!("Contract name `", $wire, "`.")] $variant ),+ }

        impl $name {
            /// Every value, in declaration (catalog) order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The contract name of this value, e.g. `FLAG_PAD_PATTERN`.
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self { $(Self::$variant => $wire),+ }
            }

            /// The value with this contract name, if any.
            #[must_use]
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($wire => Some(Self::$variant),)+ _ => None }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

pub(crate) use named_enum;
