use candle_core::{Device, Tensor};
use pacbayes_nn::Noise;
fn main() {
    let dev = Device::Cpu;
    let mut noise = Noise::new(3);
    for (c, h, o) in [(1, 28, 32), (32, 26, 64), (3, 7, 4)] {
        let x = Tensor::from_vec(noise.standard_normal(2 * c * h * h), (2, c, h, h), &dev).unwrap();
        let w = Tensor::from_vec(noise.standard_normal(o * c * 9), (o, c, 3, 3), &dev).unwrap();
        let b = Tensor::from_vec(noise.standard_normal(o), o, &dev).unwrap();
        let ours = pacbayes_nn::conv2d(&x, &w, &b).unwrap();
        let theirs = x.conv2d(&w, 0, 1, 1, 1).unwrap().broadcast_add(&b.reshape((1, o, 1, 1)).unwrap()).unwrap();
        let d = (ours - theirs).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        println!("{c} {h} {o}: {d}");
    }
}
