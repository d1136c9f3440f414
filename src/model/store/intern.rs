//! Interners: node names to u32 indices, pod demands to shared ids.

use std::collections::HashMap;

use crate::model::requests::Demand;

/// Interned node names: a pod stores a u32, not a String.
#[derive(Clone, Debug, Default)]
pub struct Nodes {
    names: Vec<Box<str>>,
    index: HashMap<Box<str>, u32>,
}

impl Nodes {
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.into());
        self.index.insert(name.into(), i);
        i
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    pub fn name(&self, i: u32) -> &str {
        &self.names[i as usize]
    }
}

/// A pod's demand, interned: most pods share a shape with their replicas,
/// so a pod keeps a 4-byte id, and a shape is freed with its last pod.
#[derive(Clone, Debug, Default)]
pub(super) struct Shapes {
    /// By id - 1: the shape and how many pods hold it.
    list: Vec<(Demand<Box<str>>, u32)>,
    index: HashMap<Demand<Box<str>>, u32>,
    free: Vec<u32>,
}

/// The id of no shape.
pub(super) const NO_SHAPE: u32 = 0;

impl Shapes {
    /// One more pod of this shape; its id.
    pub(super) fn acquire<N: AsRef<str>>(&mut self, d: &Demand<N>) -> u32 {
        if d.is_empty() {
            return NO_SHAPE;
        }
        let owned = d.to_owned();
        if let Some(&id) = self.index.get(&owned) {
            self.list[id as usize - 1].1 += 1;
            return id;
        }
        let id = match self.free.pop() {
            Some(id) => {
                self.list[id as usize - 1] = (owned.clone(), 1);
                id
            }
            None => {
                self.list.push((owned.clone(), 1));
                self.list.len() as u32
            }
        };
        self.index.insert(owned, id);
        id
    }

    /// One pod fewer of this shape.
    pub(super) fn release(&mut self, id: u32) {
        if id == NO_SHAPE {
            return;
        }
        let entry = &mut self.list[id as usize - 1];
        entry.1 -= 1;
        if entry.1 == 0 {
            let gone = std::mem::take(&mut entry.0);
            self.index.remove(&gone);
            self.free.push(id);
        }
    }

    pub(super) fn get(&self, id: u32) -> Option<&Demand<Box<str>>> {
        (id != NO_SHAPE).then(|| &self.list[id as usize - 1].0)
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.index.len()
    }
}
