//! An in-memory drawing backend for tests: records pixels and text.

use std::cell::RefCell;
use std::rc::Rc;

use plotters::style::RGBColor;
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind};

/// Width, height, pixels (row-major) and every text drawn, with where.
type Canvas = (u32, u32, Vec<RGBColor>, Vec<(String, BackendCoord)>);

#[derive(Clone)]
pub struct Recorder {
    inner: Rc<RefCell<Canvas>>,
}

impl Recorder {
    pub fn new(w: u32, h: u32) -> Self {
        Self {
            inner: Rc::new(RefCell::new((
                w,
                h,
                vec![RGBColor(0, 0, 0); (w * h) as usize],
                Vec::new(),
            ))),
        }
    }
    pub fn pixel(&self, x: i32, y: i32) -> RGBColor {
        let g = self.inner.borrow();
        g.2[(y as u32 * g.0 + x as u32) as usize]
    }
    pub fn count(&self, c: RGBColor) -> usize {
        self.inner.borrow().2.iter().filter(|p| **p == c).count()
    }
    pub fn texts(&self) -> Vec<String> {
        self.inner.borrow().3.iter().map(|(t, _)| t.clone()).collect()
    }
    /// Where `text` was drawn first (its anchor point).
    pub fn text_at(&self, text: &str) -> Option<BackendCoord> {
        self.inner.borrow().3.iter().find(|(t, _)| t == text).map(|(_, at)| *at)
    }
}

#[derive(Debug)]
pub struct NoError;
impl std::fmt::Display for NoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("recorder error")
    }
}
impl std::error::Error for NoError {}

impl DrawingBackend for Recorder {
    type ErrorType = NoError;
    fn get_size(&self) -> (u32, u32) {
        let g = self.inner.borrow();
        (g.0, g.1)
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<NoError>> {
        Ok(())
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<NoError>> {
        Ok(())
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), DrawingErrorKind<NoError>> {
        let mut g = self.inner.borrow_mut();
        let (w, h) = (g.0 as i32, g.1 as i32);
        if point.0 >= 0 && point.1 >= 0 && point.0 < w && point.1 < h && color.alpha > 0.0 {
            let i = (point.1 * w + point.0) as usize;
            g.2[i] = RGBColor(color.rgb.0, color.rgb.1, color.rgb.2);
        }
        Ok(())
    }
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        _: &S,
        at: BackendCoord,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        self.inner.borrow_mut().3.push((text.to_owned(), at));
        Ok(())
    }
    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        _: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<NoError>> {
        Ok((text.chars().count() as u32 * 7, 12))
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        plotters_backend::rasterizer::fill_polygon(self, &vert.into_iter().collect::<Vec<_>>(), style)
    }
}
