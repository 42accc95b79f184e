//! Entry point of the playground binary (built by Trunk).

fn main() {
    msgsim_web::web::start();
}
