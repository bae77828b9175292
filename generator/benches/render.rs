//! Load + validate + render of the 60-region fixture, in memory (no writing).
//! Run: `cargo bench -p generator --bench render`.

use criterion::{Criterion, criterion_group, criterion_main};
use generator::hydrate::Base;
use generator::pipeline::render_validated;
use generator::tree::RegionSelection;
use std::hint::black_box;
use std::path::Path;

fn bench(c: &mut Criterion) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalogue_path = manifest.join("tests/fixtures/catalogue-60.yaml");
    let base_dir = manifest.join("../base");
    c.bench_function(
        "load+render+validate 60 regions (catalogue and base from disk)",
        |b| {
            b.iter(|| {
                let loaded = catalogue::load(&catalogue_path).unwrap();
                let base = Base::load(&base_dir).unwrap();
                let tree =
                    render_validated(&loaded.catalogue, &base, &RegionSelection::All).unwrap();
                black_box(tree.files.len())
            })
        },
    );
    let loaded = catalogue::load(&catalogue_path).unwrap();
    let base = Base::load(&base_dir).unwrap();
    c.bench_function("render+validate 60 regions (preloaded)", |b| {
        b.iter(|| {
            let tree = render_validated(&loaded.catalogue, &base, &RegionSelection::All).unwrap();
            black_box(tree.files.len())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
