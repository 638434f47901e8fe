//! Small UI state: selection, open panels and overlays. Playing and speed live in the `Driver`
//! (the animation loop reads them every frame); everything here changes only on user input.

use std::rc::Rc;
use yew::Reducible;

/// The inspector's panels (the names scenario steps use).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Panel {
    /// Keys, siblings, clocks, tiers.
    #[default]
    Storage,
    /// Every replica of the selected key, side by side.
    Replicas,
    /// The membership list as the node sees it.
    Membership,
    /// Hints held for others.
    Hints,
    /// Merkle tree of a range.
    Merkle,
    /// The client console.
    Client,
}

impl Panel {
    /// Every panel, in tab order.
    pub const ALL: [Panel; 6] = [
        Panel::Storage,
        Panel::Replicas,
        Panel::Membership,
        Panel::Hints,
        Panel::Merkle,
        Panel::Client,
    ];

    /// The panel a scenario names; storage for anything else.
    pub fn from_name(s: &str) -> Panel {
        match s {
            "replicas" => Panel::Replicas,
            "membership" => Panel::Membership,
            "hints" => Panel::Hints,
            "merkle" => Panel::Merkle,
            "client" => Panel::Client,
            _ => Panel::Storage,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Panel::Storage => "storage",
            Panel::Replicas => "replicas",
            Panel::Membership => "membership",
            Panel::Hints => "hints",
            Panel::Merkle => "merkle",
            Panel::Client => "client",
        }
    }
}

/// The UI state.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Ui {
    /// The node the inspector shows.
    pub selected: Option<u16>,
    /// The key under the pointer (its preference list lights up).
    pub hover_key: Option<String>,
    /// The open inspector panel.
    pub panel: Panel,
    /// The keyboard help overlay.
    pub help: bool,
    /// The node whose badge menu is open.
    pub menu: Option<u16>,
    /// Picking the nodes of one side of a partition.
    pub picking: bool,
    /// The nodes picked so far.
    pub pick: Vec<u16>,
    /// The range shown in the Merkle panel (`None`: the node's first).
    pub merkle_range: Option<u64>,
    /// The cluster settings form.
    pub config_open: bool,
    /// The key whose replicas the inspector compares (`None`: the guided scenario's key).
    pub selected_key: Option<String>,
}

/// What the user did.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Show this node in the inspector (or none).
    Select(Option<u16>),
    /// The pointer is over this key (or none).
    HoverKey(Option<String>),
    /// Open a panel.
    Panel(Panel),
    /// A scenario step opened: its panel and node.
    Focus(Panel, Option<u16>),
    /// Show or hide the keyboard help.
    ToggleHelp,
    /// Escape: close overlays and menus.
    CloseOverlays,
    /// Open a node's badge menu (or close it).
    Menu(Option<u16>),
    /// Start or stop picking a partition side.
    TogglePicking,
    /// Add or remove a node from the picked side.
    TogglePick(u16),
    /// The partition was applied or cancelled.
    ClearPick,
    /// Show this Merkle range.
    MerkleRange(Option<u64>),
    /// Open or close the settings form.
    ToggleConfig,
    /// A new cluster: drop what referred to the old one.
    NewCluster,
    /// Compare the replicas of this key (opens the replicas panel), or forget the choice.
    SelectKey(Option<String>),
}

impl Reducible for Ui {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Select(n) => {
                if s.selected != n {
                    s.merkle_range = None;
                }
                s.selected = n;
            }
            Action::HoverKey(k) => s.hover_key = k,
            Action::Panel(p) => s.panel = p,
            Action::Focus(p, n) => {
                s.panel = p;
                if n.is_some() && s.selected != n {
                    s.selected = n;
                    s.merkle_range = None;
                }
            }
            Action::ToggleHelp => s.help = !s.help,
            Action::CloseOverlays => {
                s.help = false;
                s.menu = None;
                s.config_open = false;
                s.picking = false;
                s.pick.clear();
            }
            Action::Menu(n) => s.menu = n,
            Action::TogglePicking => {
                s.picking = !s.picking;
                s.pick.clear();
                s.menu = None;
            }
            Action::TogglePick(n) => {
                if let Some(i) = s.pick.iter().position(|&x| x == n) {
                    s.pick.remove(i);
                } else {
                    let at = s.pick.partition_point(|&x| x < n);
                    s.pick.insert(at, n);
                }
            }
            Action::ClearPick => {
                s.picking = false;
                s.pick.clear();
            }
            Action::MerkleRange(r) => s.merkle_range = r,
            Action::ToggleConfig => s.config_open = !s.config_open,
            Action::NewCluster => {
                s.selected = None;
                s.hover_key = None;
                s.menu = None;
                s.picking = false;
                s.pick.clear();
                s.merkle_range = None;
                s.selected_key = None;
            }
            Action::SelectKey(k) => {
                if k.is_some() {
                    s.panel = Panel::Replicas;
                }
                s.selected_key = k;
            }
        }
        if s == *self {
            self
        } else {
            Rc::new(s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(actions: Vec<Action>) -> Ui {
        let mut s = Rc::new(Ui::default());
        for a in actions {
            s = s.reduce(a);
        }
        (*s).clone()
    }

    #[test]
    fn selecting_another_node_forgets_its_merkle_range() {
        let s = run(vec![
            Action::Select(Some(1)),
            Action::MerkleRange(Some(42)),
            Action::Select(Some(1)),
        ]);
        assert_eq!(s.merkle_range, Some(42));
        let s = run(vec![
            Action::Select(Some(1)),
            Action::MerkleRange(Some(42)),
            Action::Select(Some(2)),
        ]);
        assert_eq!((s.selected, s.merkle_range), (Some(2), None));
    }

    #[test]
    fn scenario_focus_opens_the_panel_and_node() {
        let s = run(vec![Action::Focus(Panel::from_name("hints"), Some(3))]);
        assert_eq!((s.panel, s.selected), (Panel::Hints, Some(3)));
        let s = run(vec![
            Action::Select(Some(2)),
            Action::Focus(Panel::Merkle, None),
        ]);
        assert_eq!((s.panel, s.selected), (Panel::Merkle, Some(2)));
    }

    #[test]
    fn picking_a_partition_side() {
        let s = run(vec![
            Action::TogglePicking,
            Action::TogglePick(3),
            Action::TogglePick(1),
            Action::TogglePick(3),
        ]);
        assert!(s.picking);
        assert_eq!(s.pick, vec![1]);
        let s = run(vec![
            Action::TogglePicking,
            Action::TogglePick(3),
            Action::CloseOverlays,
        ]);
        assert!(!s.picking && s.pick.is_empty());
    }

    #[test]
    fn selecting_a_key_opens_its_replicas_and_a_new_cluster_forgets_it() {
        let s = run(vec![Action::SelectKey(Some("cart".into()))]);
        assert_eq!(
            (s.panel, s.selected_key.as_deref()),
            (Panel::Replicas, Some("cart"))
        );
        let s = run(vec![
            Action::SelectKey(Some("cart".into())),
            Action::Panel(Panel::Merkle),
            Action::SelectKey(None),
        ]);
        assert_eq!((s.panel, s.selected_key), (Panel::Merkle, None));
        let s = run(vec![
            Action::SelectKey(Some("cart".into())),
            Action::NewCluster,
        ]);
        assert_eq!(s.selected_key, None);
    }

    #[test]
    fn unchanged_state_is_the_same_allocation() {
        let a = Rc::new(Ui::default());
        let b = a.clone().reduce(Action::HoverKey(None));
        assert!(Rc::ptr_eq(&a, &b));
        for p in Panel::ALL {
            assert_eq!(Panel::from_name(p.name()), p);
        }
    }
}
