//! Shared bench fixtures: a model trained once on the bundled MNIST subset.

use pcz::data::{load, LoadOptions};
use pcz::learn::{self, EmOptions, StructureOptions};
use pcz::{Circuit, Dataset};

/// The bundled 1000-image MNIST subset with a 256-letter alphabet.
pub fn mnist() -> Dataset {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/mnist/train-1000-idx3-ubyte.gz"
    );
    let options = LoadOptions {
        alphabet: Some(256),
        ..Default::default()
    };
    load(std::path::Path::new(path), &options).expect("bundled testdata/mnist is present")
}

/// An untrained HCLT with `hidden` states: the learned tree with seeded initial parameters.
pub fn initial(data: &Dataset, hidden: usize) -> Circuit {
    let options = StructureOptions {
        hidden,
        mi_samples: 1000,
        ..Default::default()
    };
    let tree = learn::learn_tree(data, &options).expect("tree");
    learn::initial_circuit(tree, data, hidden, 0).expect("circuit")
}

/// An HCLT with `hidden` states trained briefly on `data`.
pub fn model(data: &Dataset, hidden: usize) -> Circuit {
    let em = EmOptions {
        epochs: 2,
        full_epochs: 0,
        ..Default::default()
    };
    learn::train(&initial(data, hidden), data, None, &em, &mut |_| {})
        .expect("train")
        .0
}
