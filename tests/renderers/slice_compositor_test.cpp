// (filled in by the renderers work)
